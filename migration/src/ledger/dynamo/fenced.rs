//! Fenced writes: a row action in one transaction with a condition check on the lock item.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use super::expr::Expr;
use super::item::{n, s};
use super::{DynamoLedger, build_err, iso, now_ms};
use crate::error::Result;
use crate::ledger::{EntryState, Transition, truncate};

impl DynamoLedger {
    /// The lock condition every fenced write carries.
    pub(super) fn lock_check(&self, fence: u64, lease_id: &str) -> Result<TransactWriteItem> {
        let mut e = Expr::default();
        let condition = format!(
            "{owner} = {me} AND {fence} = {f} AND {lid} = {lid_v} AND {rel} = {false_}",
            owner = e.n("owner"),
            me = e.v("me", s(&self.runner_id)),
            fence = e.n("fence"),
            f = e.v("f", n(fence as i64)),
            lid = e.n("lease_id"),
            lid_v = e.v("lid", s(lease_id)),
            rel = e.n("released"),
            false_ = e.v("false", AttributeValue::Bool(false)),
        );
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(Self::lock_key()))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .build()
            .map_err(build_err("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The row action for `transition` (see [`super::machine::apply`] for the same rules in Rust).
    pub(super) fn row_action(
        &self,
        name: &str,
        transition: &Transition,
        fence: u64,
    ) -> Result<TransactWriteItem> {
        let now = now_ms();
        let mut e = Expr::default();
        let mine = |e: &mut Expr| {
            format!(
                "{status} = {{state}} AND {runner} = {me} AND {fence} = {f}",
                status = e.n("status"),
                runner = e.n("runner_id"),
                me = e.v("me", s(&self.runner_id)),
                fence = e.n("fence"),
                f = e.v("f", n(fence as i64)),
            )
        };
        let applied_states = |e: &mut Expr| {
            format!(
                "(attribute_not_exists({status}) OR {status} IN ({a}, {b}))",
                status = e.n("status"),
                a = e.v("applied", s(EntryState::Applied.as_str())),
                b = e.v("baselined", s(EntryState::Baselined.as_str())),
            )
        };
        let build = build_err("TransactWriteItems");
        let item = match transition {
            Transition::Start {
                seq,
                checksum,
                attempt,
                tx_mode,
            } => {
                let mut item = self.base_item(name, EntryState::InProgress, fence, now);
                item.insert("seq".into(), n(i64::from(*seq)));
                item.insert("attempt".into(), n(i64::from(*attempt)));
                item.insert("tx_mode".into(), s(tx_mode.as_str()));
                item.insert("started_at_ms".into(), n(now));
                item.insert("started_at".into(), s(&iso(now)));
                if let Some(sum) = checksum {
                    item.insert("checksum".into(), s(sum));
                }
                let condition = if *attempt <= 1 {
                    format!("attribute_not_exists({})", e.n("SK"))
                } else {
                    format!(
                        // A row without `attempt` (the article's) counts as attempt 1.
                        "({att} = {prev}{adopted}) AND ({status} = {reverted} OR ({status} = {failed} AND {rb} = {true_}))",
                        att = e.n("attempt"),
                        prev = e.v("prev", n(i64::from(*attempt) - 1)),
                        adopted = if *attempt == 2 {
                            " OR attribute_not_exists(#attempt)"
                        } else {
                            ""
                        },
                        status = e.n("status"),
                        reverted = e.v("reverted", s(EntryState::Reverted.as_str())),
                        failed = e.v("failed", s(EntryState::Failed.as_str())),
                        rb = e.n("rolled_back"),
                        true_ = e.v("true", AttributeValue::Bool(true)),
                    )
                };
                return self.put(item, condition, e);
            }
            Transition::Baseline { seq, checksum } => {
                let mut item = self.base_item(name, EntryState::Baselined, fence, now);
                item.insert("seq".into(), n(i64::from(*seq)));
                item.insert("attempt".into(), n(1));
                item.insert("finished_at_ms".into(), n(now));
                item.insert("finished_at".into(), s(&iso(now)));
                if let Some(sum) = checksum {
                    item.insert("checksum".into(), s(sum));
                }
                let condition = format!("attribute_not_exists({})", e.n("SK"));
                return self.put(item, condition, e);
            }
            Transition::Forget => {
                let condition = format!("attribute_exists({})", e.n("SK"));
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(Self::row_key(name)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(e.names())
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build)?;
                return Ok(TransactWriteItem::builder().delete(delete).build());
            }
            Transition::Succeed {
                checksum,
                duration_ms,
            } => {
                let state = e.v("in_progress", s(EntryState::InProgress.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let mut set = format!(
                    "SET {status} = {applied}, {fin} = {now}, {fin_iso} = {now_iso}, {dur} = {dur_v}",
                    status = e.n("status"),
                    applied = e.v("applied", s(EntryState::Applied.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    dur = e.n("duration_ms"),
                    dur_v = e.v("dur", n(*duration_ms as i64)),
                );
                if let Some(sum) = checksum {
                    set.push_str(&format!(", {} = {}", e.n("checksum"), e.v("sum", s(sum))));
                }
                (set, Some(condition))
            }
            Transition::Fail { error, rolled_back } => {
                let state = e.v("in_progress", s(EntryState::InProgress.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {status} = {failed}, {err} = {err_v}, {rb} = {rb_v}, {fin} = {now}, {fin_iso} = {now_iso}",
                    status = e.n("status"),
                    failed = e.v("failed", s(EntryState::Failed.as_str())),
                    err = e.n("error"),
                    err_v = e.v("err", s(&truncate(error))),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                );
                (set, Some(condition))
            }
            Transition::Unknown { error, reverting } => {
                let state = if *reverting {
                    EntryState::Reverting
                } else {
                    EntryState::InProgress
                };
                let state = e.v("state", s(state.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {err} = {err_v}, {outcome} = {unknown}",
                    err = e.n("error"),
                    err_v = e.v(
                        "err",
                        s(&truncate(&format!(
                            "{}{error}",
                            crate::ledger::UNKNOWN_OUTCOME
                        )))
                    ),
                    outcome = e.n("outcome"),
                    unknown = e.v("unknown", s("unknown")),
                );
                (set, Some(condition))
            }
            Transition::RevertStart => {
                let condition = format!(
                    "attribute_exists({}) AND {}",
                    e.n("SK"),
                    applied_states(&mut e)
                );
                let set = format!(
                    "SET {status} = {reverting}, {st} = {now}, {st_iso} = {now_iso}, {runner} = {me}, {fence} = {f}",
                    status = e.n("status"),
                    reverting = e.v("reverting", s(EntryState::Reverting.as_str())),
                    st = e.n("started_at_ms"),
                    now = e.v("now", n(now)),
                    st_iso = e.n("started_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                );
                (set, Some(condition))
            }
            Transition::RevertDone { duration_ms } => {
                let state = e.v("reverting", s(EntryState::Reverting.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let set = format!(
                    "SET {status} = {reverted}, {fin} = {now}, {fin_iso} = {now_iso}, {dur} = {dur_v}",
                    status = e.n("status"),
                    reverted = e.v("reverted", s(EntryState::Reverted.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    dur = e.n("duration_ms"),
                    dur_v = e.v("dur", n(*duration_ms as i64)),
                );
                (set, Some(condition))
            }
            Transition::RevertFail { error, rolled_back } => {
                let state = e.v("reverting", s(EntryState::Reverting.as_str()));
                let condition = mine(&mut e).replace("{state}", &state);
                let next = if *rolled_back {
                    EntryState::Applied
                } else {
                    EntryState::Failed
                };
                let set = format!(
                    "SET {status} = {next}, {err} = {err_v}, {rb} = {rb_v}",
                    status = e.n("status"),
                    next = e.v("next", s(next.as_str())),
                    err = e.n("error"),
                    err_v = e.v("err", s(&truncate(error))),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                );
                (set, Some(condition))
            }
            Transition::MarkApplied { checksum } => {
                let mut set = format!(
                    "SET {status} = {applied}, {fin} = {now}, {fin_iso} = {now_iso}, {runner} = {me}, \
                     {fence} = {f}, {att} = if_not_exists({att}, {one}), {rec} = {true_}",
                    status = e.n("status"),
                    applied = e.v("applied", s(EntryState::Applied.as_str())),
                    fin = e.n("finished_at_ms"),
                    now = e.v("now", n(now)),
                    fin_iso = e.n("finished_at"),
                    now_iso = e.v("now_iso", s(&iso(now))),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                    att = e.n("attempt"),
                    one = e.v("one", n(1)),
                    rec = e.n("recovered"),
                    true_ = e.v("true", AttributeValue::Bool(true)),
                );
                if let Some(sum) = checksum {
                    set.push_str(&format!(", {} = {}", e.n("checksum"), e.v("sum", s(sum))));
                }
                set.push_str(&format!(" REMOVE {}, {}", e.n("error"), e.n("rolled_back")));
                (set, None)
            }
            Transition::MarkFailed { rolled_back } => {
                let condition = format!("attribute_exists({})", e.n("SK"));
                let set = format!(
                    "SET {status} = {failed}, {rb} = {rb_v}, {runner} = {me}, {fence} = {f}",
                    status = e.n("status"),
                    failed = e.v("failed", s(EntryState::Failed.as_str())),
                    rb = e.n("rolled_back"),
                    rb_v = e.v("rb", AttributeValue::Bool(*rolled_back)),
                    runner = e.n("runner_id"),
                    me = e.v("me", s(&self.runner_id)),
                    fence = e.n("fence"),
                    f = e.v("f", n(fence as i64)),
                );
                (set, Some(condition))
            }
            Transition::Rechecksum { checksum } => {
                let condition = format!(
                    "attribute_exists({}) AND {}",
                    e.n("SK"),
                    applied_states(&mut e)
                );
                let set = match checksum {
                    Some(sum) => format!("SET {} = {}", e.n("checksum"), e.v("sum", s(sum))),
                    None => format!("REMOVE {}", e.n("checksum")),
                };
                (set, Some(condition))
            }
        };
        let (update, condition) = item;
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::row_key(name)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn base_item(
        &self,
        name: &str,
        state: EntryState,
        fence: u64,
        now: i64,
    ) -> HashMap<String, AttributeValue> {
        let mut item = Self::row_key(name);
        item.insert("status".into(), s(state.as_str()));
        item.insert("runner_id".into(), s(&self.runner_id));
        item.insert("fence".into(), n(fence as i64));
        item.insert("written_at_ms".into(), n(now));
        item
    }

    fn put(
        &self,
        item: HashMap<String, AttributeValue>,
        condition: String,
        e: Expr,
    ) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(e.names())
            .set_expression_attribute_values(e.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
