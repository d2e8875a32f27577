import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { idsOfType, onlyOfType, secrets, synth } from './helpers';

describe('Aurora Serverless v2 cluster', () => {
  it('has the Data API on and scales from 0 to 16 ACU by default', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      EnableHttpEndpoint: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 16 },
      DatabaseName: 'my_database',
      StorageEncrypted: true,
    });
  });

  it('has exactly one instance: a serverless v2 writer in the cluster', () => {
    const { json } = synth();
    const [clusterId] = onlyOfType(json, 'AWS::RDS::DBCluster');
    const [, writer] = onlyOfType(json, 'AWS::RDS::DBInstance');
    assert.equal(writer.Properties.DBInstanceClass, 'db.serverless');
    assert.deepEqual(writer.Properties.DBClusterIdentifier, { Ref: clusterId });
    assert.equal(writer.Properties.PubliclyAccessible, false);
  });

  it('takes its capacity from context', () => {
    const { template } = synth({ minCapacity: '0.5', maxCapacity: '4' });
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
    });
  });

  it('is Aurora MySQL 3 by default and Aurora PostgreSQL 16 with -c engine=postgres', () => {
    const mysql = synth().json;
    const postgres = synth({ engine: 'postgres' }).json;
    const [, mysqlCluster] = onlyOfType(mysql, 'AWS::RDS::DBCluster');
    const [, postgresCluster] = onlyOfType(postgres, 'AWS::RDS::DBCluster');
    assert.equal(mysqlCluster.Properties.Engine, 'aurora-mysql');
    assert.equal(mysqlCluster.Properties.EngineVersion, '8.0.mysql_aurora.3.10.3');
    assert.equal(mysqlCluster.Properties.DBClusterParameterGroupName, 'default.aurora-mysql8.0');
    assert.equal(postgresCluster.Properties.Engine, 'aurora-postgresql');
    assert.equal(postgresCluster.Properties.EngineVersion, '16.13');
    assert.equal(postgresCluster.Properties.DBClusterParameterGroupName, 'default.aurora-postgresql16');
    for (const [json, engine] of [
      [mysql, 'aurora-mysql'],
      [postgres, 'aurora-postgresql'],
    ] as const) {
      const [, cluster] = onlyOfType(json, 'AWS::RDS::DBCluster');
      assert.equal(cluster.Properties.EnableHttpEndpoint, true, engine);
      assert.deepEqual(cluster.Properties.ServerlessV2ScalingConfiguration, { MinCapacity: 0, MaxCapacity: 16 });
      assert.equal(onlyOfType(json, 'AWS::RDS::DBInstance')[1].Properties.Engine, engine);
    }
  });

  it('takes an engine version from context', () => {
    const { template } = synth({ engineVersion: '8.0.mysql_aurora.3.08.2' });
    template.hasResourceProperties('AWS::RDS::DBCluster', { EngineVersion: '8.0.mysql_aurora.3.08.2' });
  });

  it('keeps its master credentials in a generated secret attached to the cluster', () => {
    for (const [context, username] of [
      [{}, 'admin'],
      [{ engine: 'postgres' }, 'postgres'],
    ] as const) {
      const { json } = synth(context);
      const { master } = secrets(json);
      const secret = json.Resources[master.secretId];
      assert.equal(
        JSON.parse(secret.Properties.GenerateSecretString.SecretStringTemplate).username,
        username,
      );
      assert.equal(secret.Properties.GenerateSecretString.GenerateStringKey, 'password');
      const attachment = json.Resources[master.attachmentId];
      const [clusterId, cluster] = onlyOfType(json, 'AWS::RDS::DBCluster');
      assert.deepEqual(attachment.Properties.TargetId, { Ref: clusterId });
      assert.match(JSON.stringify(cluster.Properties.MasterUserPassword), new RegExp(`resolve:secretsmanager:.*${master.secretId}`));
    }
  });

  it("keeps the API user's credentials in a generated secret of the same shape, attached to the cluster", () => {
    for (const engine of ['mysql', 'postgres']) {
      const { json } = synth({ engine });
      assert.equal(idsOfType(json, 'AWS::SecretsManager::Secret').length, 2, engine);
      const { master, api } = secrets(json);
      const generate = json.Resources[api.secretId].Properties.GenerateSecretString;
      assert.deepEqual(JSON.parse(generate.SecretStringTemplate), { username: 'users_api', dbname: 'my_database' });
      assert.equal(generate.GenerateStringKey, 'password');
      // Quotes and backslashes never reach the GRANT statements' password literal.
      for (const excluded of ['"', "'", '\\', '@', '/']) {
        assert.ok(generate.ExcludeCharacters.includes(excluded), `${engine}: ${excluded}`);
      }
      const masterGenerate = json.Resources[master.secretId].Properties.GenerateSecretString;
      assert.equal(generate.PasswordLength ?? 30, masterGenerate.PasswordLength ?? 30);
      const [clusterId] = onlyOfType(json, 'AWS::RDS::DBCluster');
      assert.deepEqual(json.Resources[api.attachmentId].Properties.TargetId, { Ref: clusterId });
      assert.deepEqual(json.Resources[api.attachmentId].Properties.TargetType, 'AWS::RDS::DBCluster');
    }
  });

  it('sets deletion protection, backups and removal per stage', () => {
    const dev = synth().template;
    dev.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({ DeletionProtection: false, BackupRetentionPeriod: 1 }),
      DeletionPolicy: 'Delete',
    });
    const prod = synth({ stage: 'prod' }).template;
    prod.hasResource('AWS::RDS::DBCluster', {
      Properties: Match.objectLike({ DeletionProtection: true, BackupRetentionPeriod: 14 }),
      DeletionPolicy: 'Snapshot',
    });
    synth({ deletionProtection: 'true', backupRetentionDays: '7' }).template.hasResourceProperties(
      'AWS::RDS::DBCluster',
      { DeletionProtection: true, BackupRetentionPeriod: 7 },
    );
  });

  it('lives in isolated subnets with no NAT gateway and no internet gateway', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });
});

describe('migrations ledger table', () => {
  it('has string PK/SK, on-demand billing and point-in-time recovery', () => {
    const { json } = synth();
    const [, table] = onlyOfType(json, 'AWS::DynamoDB::Table');
    assert.deepEqual(table.Properties.KeySchema, [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(table.Properties.AttributeDefinitions, [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
    ]);
    assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(table.Properties.ProvisionedThroughput, undefined);
    assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.equal(table.Properties.TimeToLiveSpecification, undefined, 'ledger items must never expire');
    assert.equal(table.Properties.GlobalSecondaryIndexes, undefined);
  });

  it('is protected and retained in prod', () => {
    const dev = synth().template;
    dev.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
    synth({ stage: 'prod' }).template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      DeletionPolicy: 'Retain',
    });
  });
});
