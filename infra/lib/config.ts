// The deployment's settings, read once from CDK context (`cdk.json`, `-c key=value`) and validated.
//
// Every key is optional; the defaults are the article's setup on today's AWS: Aurora MySQL, Serverless
// v2 scaling from 0 (auto-pause) to 16 ACU, stage `dev`. Values given with `-c` arrive as strings, values
// from `cdk.json` or tests as JSON: both are accepted, anything else is refused with a message naming
// the key.

/** The two engines the Data API serves and the Rust side (`DATABASE_ENGINE`) understands. */
export type Engine = 'mysql' | 'postgres';

export interface StackConfig {
  /** Deployment stage: names the stack (`UsersService-<stage>`) and the API Gateway stage. */
  readonly stage: string;
  readonly engine: Engine;
  /**
   * Full engine version, e.g. `8.0.mysql_aurora.3.10.3` or `16.13`. Aurora MySQL must be 3.08 or newer
   * and Aurora PostgreSQL 16.3 or newer: the first releases that scale to 0 ACU.
   */
  readonly engineVersion: string;
  /** Serverless v2 minimum capacity in ACU; 0 lets the cluster pause when idle. */
  readonly minCapacity: number;
  /** Serverless v2 maximum capacity in ACU. */
  readonly maxCapacity: number;
  /** Deletion protection on the cluster and the ledger table. */
  readonly deletionProtection: boolean;
  /** Automated backup retention of the cluster, in days (1 to 35). */
  readonly backupRetentionDays: number;
  /** `RUST_LOG` of both functions. */
  readonly rustLog: string;
  /**
   * Reserved concurrency of the API function, or `undefined` for none (`-c apiReservedConcurrency=none`).
   * It caps what the API can draw from the account's pool (and the Data API's request rate) and
   * guarantees it that much. Lambda keeps 10 executions unreserved, so an account at the default quota
   * of 1,000 fits the default of 10 with room to spare; an account still at a 10-execution quota can
   * reserve nothing and must say `none`.
   */
  readonly apiReservedConcurrency: number | undefined;
  /**
   * `SCHEMA_CHECK_AFTER_MIGRATE` of the migration function: after migrating, compare the live schema
   * with what the migrations make on a scratch database of the same cluster and, on drift, `report` it
   * (logged and in the invocation's answer) or `fail` the invocation (and so the deploy). `off` by
   * default: the check costs a scratch database migrated on every deploy.
   */
  readonly schemaCheckAfterMigrate: SchemaCheck;
}

/** What the migration function does about schema drift after migrating. */
export type SchemaCheck = 'off' | 'report' | 'fail';

/** The context keys this app reads; anything else in `-c` is left to the CDK. */
export const CONTEXT_KEYS = [
  'stage',
  'engine',
  'engineVersion',
  'minCapacity',
  'maxCapacity',
  'deletionProtection',
  'backupRetentionDays',
  'rustLog',
  'apiReservedConcurrency',
  'schemaCheckAfterMigrate',
] as const;

/** Reserved concurrency of the API function when the context does not say. */
export const DEFAULT_API_RESERVED_CONCURRENCY = 10;

export const DEFAULT_ENGINE_VERSION: Record<Engine, string> = {
  mysql: '8.0.mysql_aurora.3.10.3',
  postgres: '16.13',
};

/** Stages that get production defaults: deletion protection on, 14 days of backups. */
const PRODUCTION_STAGES = new Set(['prod', 'production']);

export class ConfigError extends Error {
  constructor(message: string) {
    super(`invalid CDK context: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Reads the settings through `get` (the app's `node.tryGetContext`, or a map in tests). */
export function readConfig(get: (key: string) => unknown): StackConfig {
  const stage = readString(get, 'stage') ?? 'dev';
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new ConfigError(
      `stage must be 1-20 characters of a-z, 0-9 and '-', starting with a letter (got ${JSON.stringify(stage)})`,
    );
  }
  const production = PRODUCTION_STAGES.has(stage);

  const engineText = readString(get, 'engine') ?? 'mysql';
  if (engineText !== 'mysql' && engineText !== 'postgres') {
    throw new ConfigError(`engine must be "mysql" or "postgres" (got ${JSON.stringify(engineText)})`);
  }
  const engine: Engine = engineText;

  const engineVersion = readString(get, 'engineVersion') ?? DEFAULT_ENGINE_VERSION[engine];
  checkEngineVersion(engine, engineVersion);

  const minCapacity = readNumber(get, 'minCapacity') ?? 0;
  const maxCapacity = readNumber(get, 'maxCapacity') ?? 16;
  checkCapacity('minCapacity', minCapacity, 0);
  checkCapacity('maxCapacity', maxCapacity, 1);
  if (minCapacity > maxCapacity) {
    throw new ConfigError(`minCapacity (${minCapacity}) must not exceed maxCapacity (${maxCapacity})`);
  }

  const deletionProtection = readBoolean(get, 'deletionProtection') ?? production;

  const backupRetentionDays = readNumber(get, 'backupRetentionDays') ?? (production ? 14 : 1);
  if (!Number.isInteger(backupRetentionDays) || backupRetentionDays < 1 || backupRetentionDays > 35) {
    throw new ConfigError(`backupRetentionDays must be a whole number from 1 to 35 (got ${backupRetentionDays})`);
  }

  const rustLog = readString(get, 'rustLog') ?? 'info';
  if (rustLog.trim() === '') {
    throw new ConfigError('rustLog must not be empty');
  }

  const apiReservedConcurrency = readReservedConcurrency(get);

  const schemaCheckText = readString(get, 'schemaCheckAfterMigrate') ?? 'off';
  if (schemaCheckText !== 'off' && schemaCheckText !== 'report' && schemaCheckText !== 'fail') {
    throw new ConfigError(
      `schemaCheckAfterMigrate must be "off", "report" or "fail" (got ${JSON.stringify(schemaCheckText)})`,
    );
  }
  const schemaCheckAfterMigrate: SchemaCheck = schemaCheckText;

  return {
    stage,
    engine,
    engineVersion,
    minCapacity,
    maxCapacity,
    deletionProtection,
    backupRetentionDays,
    rustLog,
    apiReservedConcurrency,
    schemaCheckAfterMigrate,
  };
}

function readReservedConcurrency(get: (key: string) => unknown): number | undefined {
  const key = 'apiReservedConcurrency';
  if (get(key) === 'none') return undefined;
  const value = readNumber(get, key) ?? DEFAULT_API_RESERVED_CONCURRENCY;
  // 0 would throttle every request: refused rather than deployed as an API that cannot answer.
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new ConfigError(`${key} must be a whole number from 1 to 1000, or "none" (got ${value})`);
  }
  return value;
}

/** The stack's name for a stage. */
export function stackName(config: StackConfig): string {
  return `UsersService-${config.stage}`;
}

function checkEngineVersion(engine: Engine, version: string): void {
  if (engine === 'mysql') {
    const match = /^8\.0\.mysql_aurora\.3\.(\d{2})\.(\d+)$/.exec(version);
    if (!match || Number(match[1]) < 8) {
      throw new ConfigError(
        `engineVersion for mysql must be Aurora MySQL 3.08 or newer, like "8.0.mysql_aurora.3.08.0" (got ${JSON.stringify(version)})`,
      );
    }
  } else {
    const match = /^16\.(\d+)$/.exec(version);
    if (!match || Number(match[1]) < 3) {
      throw new ConfigError(
        `engineVersion for postgres must be Aurora PostgreSQL 16.3 or newer, like "16.13" (got ${JSON.stringify(version)})`,
      );
    }
  }
}

// Aurora Serverless v2 scales in steps of 0.5 ACU, from 0 to 256.
function checkCapacity(key: string, value: number, least: number): void {
  if (!Number.isFinite(value) || value < least || value > 256 || value * 2 !== Math.round(value * 2)) {
    throw new ConfigError(`${key} must be a multiple of 0.5 from ${least} to 256 ACU (got ${value})`);
  }
}

function readString(get: (key: string) => unknown, key: string): string | undefined {
  const value = get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new ConfigError(`${key} must be a string (got ${JSON.stringify(value)})`);
  }
  return value;
}

function readNumber(get: (key: string) => unknown, key: string): number | undefined {
  const value = get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  throw new ConfigError(`${key} must be a number (got ${JSON.stringify(value)})`);
}

function readBoolean(get: (key: string) => unknown, key: string): boolean | undefined {
  const value = get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${key} must be true or false (got ${JSON.stringify(value)})`);
}
