//! Condition and update expressions: attribute names and values named after the attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// Expression attribute names and values, named after the attribute.
#[derive(Default)]
pub(super) struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub(super) fn n(&mut self, attr: &str) -> String {
        let key = format!("#{attr}");
        self.names.insert(key.clone(), attr.to_owned());
        key
    }

    pub(super) fn v(&mut self, key: &str, value: AttributeValue) -> String {
        let key = format!(":{key}");
        self.values.insert(key.clone(), value);
        key
    }

    pub(super) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(super) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}
