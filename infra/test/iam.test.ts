import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditIam, identityStatements, type ManagedPolicyAllowance, type WildcardAllowance } from './iam-audit';
import { synth } from './helpers';

// Wildcard resources the stack may grant, each because AWS offers nothing narrower.
const WILDCARD_RESOURCES: WildcardAllowance[] = [
  {
    actions: ['lambda:InvokeFunction'],
    resource: /^\[\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["RunMigrationsFunction[0-9A-F]{8}","Arn"\]\},":\*"\]\]\}\]$/,
    reason:
      'CDK\'s trigger provider invokes a published version of the migration function, i.e. the qualified ARN ' +
      '"<function ARN>:<version>"; the version number exists only at deploy time, so the grant is ' +
      '"<that one function>:*" (its versions), never another function.',
  },
];

// Managed policies the stack may attach.
const MANAGED_POLICIES: ManagedPolicyAllowance[] = [
  {
    role: /^(AWSCDKTriggerCustomResourceProviderCustomResourceProvider|CustomVpcRestrictDefaultSGCustomResourceProvider)Role[0-9A-F]{8}$/,
    policy: /^\{"Fn::Sub":"arn:\$\{AWS::Partition\}:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"\}$/,
    reason:
      "CDK's own custom-resource provider functions (the migration trigger, the VPC default security group " +
      'lockdown) get the AWS-managed logging policy from CDK, which offers no way to scope it. The service ' +
      "functions' roles attach no managed policy and write only to their own log groups.",
  },
];

describe('IAM audit (the checker itself)', () => {
  const role = (statement: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    Resources: {
      R: {
        Type: 'AWS::IAM::Role',
        Properties: { Policies: [{ PolicyName: 'p', PolicyDocument: { Statement: [statement] } }], ...extra },
      },
    },
  });
  const policy = (statement: Record<string, unknown>) => ({
    Resources: { P: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { Statement: [statement] } } } },
  });

  it('passes explicit actions on explicit resources', () => {
    assert.deepEqual(auditIam(policy({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::b/k' }), [], []), []);
  });

  it('catches wildcard actions in every form', () => {
    for (const action of ['*', 's3:*', 's3:Get*', ['s3:GetObject', 'dynamodb:*'], 'rds-data:?xecuteStatement']) {
      const problems = auditIam(policy({ Effect: 'Allow', Action: action, Resource: 'arn:aws:s3:::b' }), [], []);
      assert.equal(problems.length, 1, JSON.stringify(action));
      assert.match(problems[0], /wildcard action/);
    }
    assert.match(auditIam(role({ Effect: 'Allow', Action: 'iam:*', Resource: 'arn:aws:iam::1:role/x' }), [], [])[0], /R\/p: wildcard action/);
  });

  it('catches NotAction, NotResource and wildcard resources unless allow-listed for exactly those actions', () => {
    assert.match(auditIam(policy({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: 'x' }), [], [])[0], /NotAction/);
    assert.match(auditIam(policy({ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'x' }), [], [])[0], /NotResource/);
    const star = policy({ Effect: 'Allow', Action: ['ec2:DescribeImages'], Resource: '*' });
    assert.match(auditIam(star, [], [])[0], /wildcard resource "\*" for ec2:DescribeImages/);
    const allowance = { actions: ['ec2:DescribeImages'], resource: /^"\*"$/, reason: 'test' };
    assert.deepEqual(auditIam(star, [allowance], []), []);
    const more = policy({ Effect: 'Allow', Action: ['ec2:DescribeImages', 'ec2:RunInstances'], Resource: '*' });
    assert.equal(auditIam(more, [allowance], []).length, 1, 'an allowance covers its actions only');
    const joined = policy({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::Join': ['', ['arn:', ':*']] } });
    assert.equal(auditIam(joined, [], []).length, 1, 'a * inside an intrinsic counts');
  });

  it('catches managed policies that are not allow-listed', () => {
    const attached = role(
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'x' },
      { ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] },
    );
    assert.match(auditIam(attached, [], [])[0], /managed policy "arn:aws:iam::aws:policy\/AdministratorAccess"/);
  });
});

describe('IAM grants of the stack', () => {
  for (const context of [{}, { engine: 'postgres' }, { stage: 'prod' }]) {
    it(`have no wildcard action and only allow-listed wildcards (${JSON.stringify(context)})`, () => {
      const { json } = synth(context);
      assert.ok(identityStatements(json).length >= 8, 'the audit must see the stack\'s statements');
      assert.deepEqual(auditIam(json, WILDCARD_RESOURCES, MANAGED_POLICIES), []);
    });
  }

  it('use every allow-list entry (an unused entry is a stale exception)', () => {
    const { json } = synth();
    for (const allowance of WILDCARD_RESOURCES) {
      const used = identityStatements(json).some(({ statement }) => allowance.resource.test(JSON.stringify(statement.Resource)));
      assert.ok(used, allowance.reason);
    }
    for (const allowance of MANAGED_POLICIES) {
      const used = Object.entries(json.Resources).some(
        ([id, r]) => allowance.role.test(id) && (r.Properties?.ManagedPolicyArns ?? []).some((arn: unknown) => allowance.policy.test(JSON.stringify(arn))),
      );
      assert.ok(used, allowance.reason);
    }
  });
});
