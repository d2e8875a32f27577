// Builds the CDK app: one stack for the stage chosen in context. Shared by bin/app.ts (the `cdk` CLI's
// entry point), bin/synth-offline.ts and the tests, so all three synthesize the same thing.

import { App, type AppProps, CfnRule, Fn } from 'aws-cdk-lib';
import { ConfigError, readConfig, stackName } from './config';

/** CDK's context key listing the stacks whose assets are bundled (`[]`: none). */
export const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';
import { UsersServiceStack } from './users-service-stack';

export function buildApp(props?: AppProps): { app: App; stack: UsersServiceStack } {
  const app = new App(props);
  // `-c offline=true`: skip bundling (cargo-lambda) so `cdk synth` and `cdk diff` work without the Rust
  // toolchain. The CLI refuses `-c aws:…` keys, so this sets CDK's own switch from inside the app; a
  // template synthesized this way refers to no built code and must not be deployed.
  const offline = app.node.tryGetContext('offline');
  if (offline === true || offline === 'true') {
    app.node.setContext(BUNDLING_STACKS, []);
  } else if (offline !== undefined && offline !== false && offline !== 'false') {
    throw new ConfigError(`offline must be true or false (got ${JSON.stringify(offline)})`);
  }
  const config = readConfig((key) => app.node.tryGetContext(key));
  // Environment-agnostic on purpose: synthesis needs no credentials and no context lookups; the account
  // and region come from the deploying profile (`cdk deploy`), the AZs from Fn::GetAZs.
  const stack = new UsersServiceStack(app, stackName(config), {
    config,
    description: `Users service (${config.stage}): Aurora Serverless v2 ${config.engine} with the Data API, Rust Lambdas, REST API`,
  });
  if (!stack.bundlingRequired) {
    // Refuse deployment before any change: CloudFormation checks rules first, and this one never holds.
    new CfnRule(stack, 'NotDeployable', {
      assertions: [
        {
          assert: Fn.conditionEquals('bundling-skipped', 'bundled'),
          assertDescription: 'synthesized with bundling skipped (-c offline=true): no code was built; deploy without it',
        },
      ],
    });
  }
  return { app, stack };
}
