import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../lib/app';
import { ConfigError, readConfig, stackName } from '../lib/config';
import { buildOfflineApp } from '../lib/offline';
import { synth } from './helpers';

const config = (context: Record<string, unknown>) => readConfig((key) => context[key]);

describe('config', () => {
  it('defaults to the article: MySQL, 0-16 ACU, stage dev without deletion protection', () => {
    assert.deepEqual(config({}), {
      stage: 'dev',
      engine: 'mysql',
      engineVersion: '8.0.mysql_aurora.3.10.3',
      minCapacity: 0,
      maxCapacity: 16,
      deletionProtection: false,
      backupRetentionDays: 1,
      rustLog: 'info',
      apiReservedConcurrency: 10,
      schemaCheckAfterMigrate: 'off',
    });
    assert.equal(stackName(config({})), 'UsersService-dev');
  });

  it('gives prod deletion protection and 14 days of backups', () => {
    const prod = config({ stage: 'prod' });
    assert.equal(prod.deletionProtection, true);
    assert.equal(prod.backupRetentionDays, 14);
    assert.equal(stackName(prod), 'UsersService-prod');
  });

  it('reads -c strings as well as JSON values', () => {
    const fromCli = config({
      engine: 'postgres',
      minCapacity: '0.5',
      maxCapacity: '64',
      deletionProtection: 'true',
      backupRetentionDays: '7',
      rustLog: 'debug',
    });
    assert.equal(fromCli.engine, 'postgres');
    assert.equal(fromCli.engineVersion, '16.13');
    assert.equal(fromCli.minCapacity, 0.5);
    assert.equal(fromCli.maxCapacity, 64);
    assert.equal(fromCli.deletionProtection, true);
    assert.equal(fromCli.backupRetentionDays, 7);
    assert.equal(fromCli.rustLog, 'debug');
    assert.equal(config({ apiReservedConcurrency: '25' }).apiReservedConcurrency, 25);
    assert.equal(config({ apiReservedConcurrency: 40 }).apiReservedConcurrency, 40);
    assert.equal(config({ apiReservedConcurrency: 'none' }).apiReservedConcurrency, undefined);
    for (const value of ['off', 'report', 'fail']) {
      assert.equal(config({ schemaCheckAfterMigrate: value }).schemaCheckAfterMigrate, value);
    }
    const fromJson = config({ maxCapacity: 8, deletionProtection: false, stage: 'prod' });
    assert.equal(fromJson.maxCapacity, 8);
    assert.equal(fromJson.deletionProtection, false, 'an explicit value beats the stage default');
  });

  it('accepts engine versions that scale to zero and refuses older or foreign ones', () => {
    assert.equal(config({ engineVersion: '8.0.mysql_aurora.3.08.0' }).engineVersion, '8.0.mysql_aurora.3.08.0');
    assert.equal(config({ engine: 'postgres', engineVersion: '16.3' }).engineVersion, '16.3');
    for (const [engine, engineVersion] of [
      ['mysql', '8.0.mysql_aurora.3.07.1'],
      ['mysql', '5.7.mysql_aurora.2.12.0'],
      ['mysql', '16.13'],
      ['postgres', '16.2'],
      ['postgres', '15.8'],
      ['postgres', '8.0.mysql_aurora.3.10.3'],
    ]) {
      assert.throws(() => config({ engine, engineVersion }), /engineVersion for/, `${engine} ${engineVersion}`);
    }
  });

  it('refuses bad input with a message naming the key', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ engine: 'aurora' }, /engine must be "mysql" or "postgres"/],
      [{ engine: 'MySQL' }, /engine must be/],
      [{ stage: 'Prod' }, /stage must be/],
      [{ stage: '' }, /stage must be/],
      [{ minCapacity: '-1' }, /minCapacity must be a multiple of 0.5 from 0 to 256 ACU \(got -1\)/],
      [{ maxCapacity: 'sixteen' }, /maxCapacity must be a number \(got "sixteen"\)/],
      [{ minCapacity: 0.3 }, /minCapacity must be a multiple of 0.5/],
      [{ maxCapacity: 0 }, /maxCapacity must be a multiple of 0.5 from 1/],
      [{ maxCapacity: 512 }, /maxCapacity must be/],
      [{ minCapacity: 8, maxCapacity: 4 }, /minCapacity \(8\) must not exceed maxCapacity \(4\)/],
      [{ deletionProtection: 'yes' }, /deletionProtection must be true or false/],
      [{ backupRetentionDays: 0 }, /backupRetentionDays must be a whole number from 1 to 35/],
      [{ backupRetentionDays: 36 }, /backupRetentionDays/],
      [{ backupRetentionDays: 1.5 }, /backupRetentionDays/],
      [{ rustLog: ' ' }, /rustLog must not be empty/],
      [{ stage: 7 }, /stage must be a string/],
      [{ apiReservedConcurrency: 0 }, /apiReservedConcurrency must be a whole number from 1 to 1000, or "none"/],
      [{ apiReservedConcurrency: '2.5' }, /apiReservedConcurrency/],
      [{ apiReservedConcurrency: 1001 }, /apiReservedConcurrency/],
      [{ apiReservedConcurrency: 'unlimited' }, /apiReservedConcurrency must be a number/],
      [{ schemaCheckAfterMigrate: 'true' }, /schemaCheckAfterMigrate must be "off", "report" or "fail" \(got "true"\)/],
      [{ schemaCheckAfterMigrate: true }, /schemaCheckAfterMigrate must be a string/],
    ];
    for (const [context, message] of cases) {
      assert.throws(
        () => config(context),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
        JSON.stringify(context),
      );
    }
  });
});

describe('offline synthesis', () => {
  it('skips bundling and makes the template refuse deployment', () => {
    const { stack, json } = synth();
    assert.equal(stack.bundlingRequired, false);
    const rules = (json as any).Rules;
    assert.deepEqual(rules.NotDeployable.Assertions[0].Assert, { 'Fn::Equals': ['bundling-skipped', 'bundled'] });
  });

  it('refuses an offline value that is not a boolean', () => {
    assert.throws(() => buildApp({ context: { offline: 'yes' } }), /offline must be true or false/);
    assert.equal(buildOfflineApp({ offline: 'true' }).stack.bundlingRequired, false);
  });
});
