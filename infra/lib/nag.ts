// The cdk-nag AwsSolutions findings this stack accepts, each on the construct it concerns and with its
// reason. test/nag.test.ts runs the AwsSolutions checks over the stack and fails on any finding not
// acknowledged here.

import { Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/** One accepted finding: the rule, where, and why. */
export interface NagAcknowledgement {
  readonly rule: string;
  readonly scope: IConstruct;
  readonly reason: string;
}

/** The stack's accepted findings (exported for the test that checks each is still needed). */
export function nagAcknowledgements(parts: {
  api: apigateway.RestApi;
  cluster: rds.DatabaseCluster;
  apiSecret: secretsmanager.ISecret;
  vpc: ec2.Vpc;
}): NagAcknowledgement[] {
  const { api, cluster, apiSecret, vpc } = parts;
  const stage = api.deploymentStage;
  return [
    {
      rule: 'AwsSolutions-APIG4',
      scope: api,
      reason:
        "The article's API is public and unauthenticated by design (POST /add-user, GET /get-users); abuse is bounded by " +
        "the stage's throttling and the API function's reserved concurrency. An authorizer would change the contract.",
    },
    {
      rule: 'AwsSolutions-COG4',
      scope: api,
      reason: 'No Cognito user pool: the API has no users to sign in (see AwsSolutions-APIG4).',
    },
    {
      rule: 'AwsSolutions-APIG2',
      scope: api,
      reason:
        'Request bodies are validated by the function itself (names, sizes, JSON shape), which answers the API\'s own ' +
        '{"error": {"code", "message"}} body; an API Gateway model would answer a different error shape.',
    },
    {
      rule: 'AwsSolutions-APIG1',
      scope: stage,
      reason:
        'Access logging needs the account-wide API Gateway CloudWatch role, which this stack does not manage ' +
        '(cloudWatchRole: false, so deploying it cannot change other APIs of the account); every request is logged ' +
        "by the function to its own log group (tower-http's trace layer).",
    },
    {
      rule: 'AwsSolutions-APIG6',
      scope: stage,
      reason: 'Execution logging needs the same account-wide CloudWatch role as access logging (see AwsSolutions-APIG1).',
    },
    {
      rule: 'AwsSolutions-APIG3',
      scope: stage,
      reason:
        "No WAF web ACL: a regional ACL costs more per month than the article's whole stack at rest; the stage's " +
        'throttling and the reserved concurrency bound a flood. Add one per account policy when exposing production.',
    },
    {
      rule: 'AwsSolutions-RDS6',
      scope: cluster,
      reason:
        'Nothing connects to the cluster over the network (isolated subnets, no NAT): every function uses the Data API, ' +
        'which authenticates with IAM on rds-data:* and a Secrets Manager secret; IAM database authentication does ' +
        'not apply to the Data API.',
    },
    {
      rule: 'AwsSolutions-RDS10',
      scope: cluster,
      reason:
        "Deletion protection is a context setting (deletionProtection): on by default for the prod stage, off for dev " +
        'stages so that `cdk destroy` works.',
    },
    {
      rule: 'AwsSolutions-RDS11',
      scope: cluster,
      reason:
        'The port is not reachable from anywhere (isolated subnets, no ingress rule); clients use the Data API over ' +
        'HTTPS, so a non-default port would hide nothing.',
    },
    {
      rule: 'AwsSolutions-RDS14',
      scope: cluster,
      reason:
        'Backtrack exists for Aurora MySQL provisioned clusters only; Serverless v2 and Aurora PostgreSQL do not ' +
        'support it. Point-in-time restore from the automated backups covers recovery.',
    },
    {
      rule: 'AwsSolutions-SMG4',
      // The cluster's generated master secret is its child.
      scope: cluster,
      reason:
        "Rotation needs a rotation function that reaches the cluster over the network; the cluster has isolated " +
        'subnets only (no NAT, no Secrets Manager endpoint), which is what keeps it unreachable. Rotate by hand.',
    },
    {
      rule: 'AwsSolutions-SMG4',
      scope: apiSecret,
      reason:
        "The API user's secret cannot be rotated by a rotation function for the same reason as the master secret (no " +
        'network path to the cluster). Rotate by hand: put a new password in the secret and invoke the migration ' +
        'function, which resets the user\'s password to the secret\'s.',
    },
    {
      rule: 'AwsSolutions-VPC7',
      scope: vpc,
      reason:
        'The VPC holds only the cluster in isolated subnets, with no route out and no client inside; flow logs would ' +
        'record nothing but the cluster\'s own traffic to its instances.',
    },
  ];
}

/** Acknowledges the accepted findings on their constructs. */
export function acknowledgeNagFindings(parts: Parameters<typeof nagAcknowledgements>[0]): void {
  for (const { rule, scope, reason } of nagAcknowledgements(parts)) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
  }
}
