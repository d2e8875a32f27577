import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { CfnElement } from 'aws-cdk-lib';
import { Bundling, type BundlingProps } from 'cargo-lambda-cdk/lib/bundling';
import { REPO_ROOT } from '../lib/users-service-stack';
import { secrets, type Synthesized, synth } from './helpers';

// Records what each RustFunction asks cargo-lambda-cdk to build (bundling itself is skipped offline).
const bundled: BundlingProps[] = [];
const bundle = Bundling.bundle;
Bundling.bundle = (options: BundlingProps) => {
  bundled.push(options);
  return bundle.call(Bundling, options);
};

function functionResource({ stack, json }: Synthesized, which: 'apiFunction' | 'migrationFunction') {
  const id = stack.getLogicalId(stack[which].node.defaultChild as CfnElement);
  return { id, resource: json.Resources[id] };
}

/** Every statement of the policies attached to a role. */
function roleStatements(json: Synthesized['json'], roleId: string): any[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

function databaseEnv(s: Synthesized, engine: string) {
  const clusterId = s.stack.getLogicalId(s.stack.cluster.node.defaultChild as CfnElement);
  return {
    CLUSTER_ARN: {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':cluster:', { Ref: clusterId }],
      ],
    },
    DATABASE_NAME: 'my_database',
    DATABASE_ENGINE: engine,
    RUST_LOG: 'info',
  };
}

describe('Rust Lambda functions', () => {
  it('are the only two service functions, arm64 on provided.al2023 with the bootstrap handler', () => {
    const s = synth();
    const rust = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'provided.al2023',
    );
    assert.equal(rust.length, 2);
    for (const which of ['apiFunction', 'migrationFunction'] as const) {
      const { resource } = functionResource(s, which);
      assert.equal(resource.Properties.Runtime, 'provided.al2023', which);
      assert.deepEqual(resource.Properties.Architectures, ['arm64'], which);
      assert.equal(resource.Properties.Handler, 'bootstrap', which);
    }
  });

  it('run the API with the article timeout, the database env and the stage-stripping switch', () => {
    for (const engine of ['mysql', 'postgres']) {
      const s = synth({ engine });
      const { resource } = functionResource(s, 'apiFunction');
      assert.equal(resource.Properties.Timeout, 30);
      assert.equal(resource.Properties.MemorySize, 256);
      assert.deepEqual(resource.Properties.Environment.Variables, {
        ...databaseEnv(s, engine),
        // The API user's attached secret (Ref of the attachment, so the function waits for it).
        SECRET_ARN: { Ref: secrets(s.json).api.attachmentId },
        AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
      });
    }
  });

  it('reserve concurrency for the API (10 by default, from context, or none), and none for migrations', () => {
    assert.equal(functionResource(synth(), 'apiFunction').resource.Properties.ReservedConcurrentExecutions, 10);
    assert.equal(
      functionResource(synth({ apiReservedConcurrency: '25' }), 'apiFunction').resource.Properties.ReservedConcurrentExecutions,
      25,
    );
    assert.equal(
      functionResource(synth({ apiReservedConcurrency: 'none' }), 'apiFunction').resource.Properties.ReservedConcurrentExecutions,
      undefined,
    );
    assert.equal(functionResource(synth(), 'migrationFunction').resource.Properties.ReservedConcurrentExecutions, undefined);
  });

  it('run migrations with the article timeout, the database env and the ledger table', () => {
    for (const engine of ['mysql', 'postgres']) {
      const s = synth({ engine });
      const { resource } = functionResource(s, 'migrationFunction');
      const tableId = s.stack.getLogicalId(s.stack.ledgerTable.node.defaultChild as CfnElement);
      assert.equal(resource.Properties.Timeout, 180);
      const { master, api } = secrets(s.json);
      assert.deepEqual(resource.Properties.Environment.Variables, {
        ...databaseEnv(s, engine),
        SECRET_ARN: { Ref: master.attachmentId },
        API_SECRET_ARN: { Ref: api.attachmentId },
        DYNAMODB_TABLE_NAME: { Ref: tableId },
        SCHEMA_CHECK_AFTER_MIGRATE: 'off',
      });
    }
  });

  it('turn on the schema drift check after migrating from context', () => {
    for (const value of ['report', 'fail']) {
      const { resource } = functionResource(synth({ schemaCheckAfterMigrate: value }), 'migrationFunction');
      assert.equal(resource.Properties.Environment.Variables.SCHEMA_CHECK_AFTER_MIGRATE, value);
    }
  });

  it('pass RUST_LOG from context', () => {
    const s = synth({ rustLog: 'debug,aws_config=warn' });
    for (const which of ['apiFunction', 'migrationFunction'] as const) {
      assert.equal(functionResource(s, which).resource.Properties.Environment.Variables.RUST_LOG, 'debug,aws_config=warn');
    }
  });

  it('are built by cargo-lambda from the packages api and run-migrations, for arm64', () => {
    bundled.length = 0;
    synth({ stage: 'bundling' }); // a context of its own: a fresh synthesis
    const builds = bundled.map((options) => {
      const command = new Bundling(path.dirname(options.manifestPath), options).command.join(' ');
      return { manifest: path.relative(REPO_ROOT, options.manifestPath), command };
    });
    assert.deepEqual(builds, [
      {
        manifest: 'api/Cargo.toml',
        // The Lambda build of the API: no native database drivers (api/tests/dependencies.rs).
        command:
          'bash -c cargo lambda build --lambda-dir /asset-output --release --arm64 --bin api --flatten api --no-default-features',
      },
      {
        manifest: 'run-migrations/Cargo.toml',
        command:
          'bash -c cargo lambda build --lambda-dir /asset-output --release --arm64 --bin run-migrations --flatten run-migrations',
      },
    ]);
  });

  it("grant the API the Data API and its own secret only: not the master secret, no DynamoDB", () => {
    const s = synth();
    const roleId = functionResource(s, 'apiFunction').resource.Properties.Role['Fn::GetAtt'][0];
    const statements = roleStatements(s.json, roleId);
    const actions = statements.flatMap((st) => st.Action).sort();
    assert.deepEqual(actions, [
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'rds-data:BatchExecuteStatement',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:ExecuteStatement',
      'rds-data:RollbackTransaction',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const env = databaseEnv(s, 'mysql');
    const dataApi = statements.find((st) => st.Action.includes('rds-data:ExecuteStatement'));
    assert.deepEqual(dataApi.Resource, env.CLUSTER_ARN);
    const secretStatements = statements.filter((st) => st.Action.some((a: string) => a.startsWith('secretsmanager:')));
    assert.deepEqual(
      secretStatements.map((st) => st.Resource),
      [{ Ref: secrets(s.json).api.attachmentId }],
      'the only secret the API may read is its own',
    );
  });

  it('grant migrations the Data API, the secret, and item access to the ledger table only', () => {
    const s = synth();
    const roleId = functionResource(s, 'migrationFunction').resource.Properties.Role['Fn::GetAtt'][0];
    const statements = roleStatements(s.json, roleId);
    const ledger = statements.filter((st) => st.Action.some((a: string) => a.startsWith('dynamodb:')));
    assert.equal(ledger.length, 1);
    assert.deepEqual([...ledger[0].Action].sort(), [
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    const tableId = s.stack.getLogicalId(s.stack.ledgerTable.node.defaultChild as CfnElement);
    assert.deepEqual(ledger[0].Resource, { 'Fn::GetAtt': [tableId, 'Arn'] });
    const actions = statements.flatMap((st) => st.Action);
    for (const action of ['rds-data:ExecuteStatement', 'rds-data:BeginTransaction', 'secretsmanager:GetSecretValue']) {
      assert.ok(actions.includes(action), action);
    }
    // The master secret (to migrate and create the API's user) and the API's secret (its password).
    const { master, api } = secrets(s.json);
    const readable = statements
      .filter((st) => st.Action.includes('secretsmanager:GetSecretValue'))
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]));
    assert.deepEqual(
      readable.map((r: { Ref: string }) => r.Ref).sort(),
      [master.attachmentId, api.attachmentId].sort(),
    );
  });

  it('have roles with no managed policy that log only to their own log group', () => {
    const s = synth();
    for (const which of ['apiFunction', 'migrationFunction'] as const) {
      const { resource } = functionResource(s, which);
      const roleId = resource.Properties.Role['Fn::GetAtt'][0];
      assert.equal(s.json.Resources[roleId].Properties.ManagedPolicyArns, undefined, which);
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      assert.equal(s.json.Resources[logGroupId].Type, 'AWS::Logs::LogGroup');
      assert.equal(s.json.Resources[logGroupId].Properties.RetentionInDays, 30);
      const logs = roleStatements(s.json, roleId).filter((st) => st.Action.some((a: string) => a.startsWith('logs:')));
      assert.deepEqual(logs.map((st) => st.Resource), [{ 'Fn::GetAtt': [logGroupId, 'Arn'] }], which);
    }
  });
});
