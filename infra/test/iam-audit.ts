// Finds IAM grants in a synthesized template that are broader than allowed: any wildcard in an action,
// NotAction/NotResource, and wildcard resources or managed policies not on an explicit allow-list.

/** A statement from an identity policy, with where it was found. */
export interface FoundStatement {
  readonly where: string;
  readonly statement: Record<string, unknown>;
}

/** A wildcard resource that AWS requires, with the reason. */
export interface WildcardAllowance {
  readonly actions: readonly string[];
  /** Matched against `JSON.stringify` of the statement's Resource. */
  readonly resource: RegExp;
  readonly reason: string;
}

/** A managed policy attachment that is allowed, with the reason. */
export interface ManagedPolicyAllowance {
  /** Matched against the role's logical id. */
  readonly role: RegExp;
  /** Matched against `JSON.stringify` of the policy ARN. */
  readonly policy: RegExp;
  readonly reason: string;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** Every statement of every identity policy: AWS::IAM::Policy, ManagedPolicy, and roles' inline policies. */
export function identityStatements(template: { Resources?: Resources }): FoundStatement[] {
  const found: FoundStatement[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const props = resource.Properties ?? {};
    const documents: Array<[string, any]> = [];
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents.push([id, props.PolicyDocument]);
    }
    if (resource.Type === 'AWS::IAM::Role' || resource.Type === 'AWS::IAM::User' || resource.Type === 'AWS::IAM::Group') {
      for (const policy of props.Policies ?? []) documents.push([`${id}/${policy.PolicyName}`, policy.PolicyDocument]);
    }
    for (const [where, document] of documents) {
      const statements = document?.Statement;
      for (const statement of Array.isArray(statements) ? statements : [statements]) {
        if (statement) found.push({ where, statement });
      }
    }
  }
  return found;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Human-readable problems; empty when every grant is explicit or allow-listed. */
export function auditIam(
  template: { Resources?: Resources },
  wildcards: readonly WildcardAllowance[],
  managedPolicies: readonly ManagedPolicyAllowance[],
): string[] {
  const problems: string[] = [];
  for (const { where, statement } of identityStatements(template)) {
    if (statement.NotAction !== undefined) problems.push(`${where}: NotAction grants everything else`);
    if (statement.NotResource !== undefined) problems.push(`${where}: NotResource grants everything else`);
    if (statement.Effect !== 'Allow') continue;
    const actions = asArray(statement.Action);
    for (const action of actions) {
      if (typeof action !== 'string' || action.includes('*') || action.includes('?')) {
        problems.push(`${where}: wildcard action ${JSON.stringify(action)}`);
      }
    }
    const resource = JSON.stringify(statement.Resource ?? null);
    if (statement.Resource === undefined) problems.push(`${where}: statement without Resource`);
    if (resource.includes('*')) {
      const sorted = actions.map(String).sort();
      const allowed = wildcards.some(
        (allowance) =>
          allowance.resource.test(resource) &&
          JSON.stringify([...allowance.actions].sort()) === JSON.stringify(sorted),
      );
      if (!allowed) problems.push(`${where}: wildcard resource ${resource} for ${sorted.join(', ')}`);
    }
  }
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (!['AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group'].includes(resource.Type)) continue;
    for (const arn of asArray(resource.Properties?.ManagedPolicyArns)) {
      const text = JSON.stringify(arn);
      if (!managedPolicies.some((allowance) => allowance.role.test(id) && allowance.policy.test(text))) {
        problems.push(`${id}: managed policy ${text} is not on the allow-list`);
      }
    }
  }
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const attached = [resource.Properties?.Roles, resource.Properties?.Users, resource.Properties?.Groups];
    if (attached.some((list) => asArray(list).length > 0)) {
      problems.push(`${id}: customer managed policy attached; audit its statements by hand or inline them`);
    }
  }
  return problems;
}
