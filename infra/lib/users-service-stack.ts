// The whole users service on AWS: Aurora Serverless v2 with the Data API, the DynamoDB migrations
// ledger, the two Rust Lambdas (built by cargo-lambda), the REST API, and a deploy-time trigger that
// applies pending migrations after the cluster is up and before the API stage exists.

import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { RustFunction } from 'cargo-lambda-cdk';
import type { Construct } from 'constructs';
import type { Engine, StackConfig } from './config';
import { acknowledgeNagFindings } from './nag';

/** The Cargo workspace root (this file is `infra/lib/users-service-stack.ts`). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The database every function talks to; the cluster creates it. */
export const DATABASE_NAME = 'my_database';

/**
 * The API's own database user: `SELECT` and `INSERT` on `users`, nothing else. The migration function
 * creates it (or resets its password to the secret's) after migrating; see `migration::api_user`.
 */
export const API_DATABASE_USER = 'users_api';

/** What calling the Data API on the cluster takes (the actions `grantDataApiAccess` grants). */
export const DATA_API_ACTIONS = [
  'rds-data:BatchExecuteStatement',
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:ExecuteStatement',
  'rds-data:RollbackTransaction',
];

/** The article's timeouts. */
export const API_TIMEOUT = Duration.seconds(30);
export const MIGRATION_TIMEOUT = Duration.seconds(180);

/**
 * The API's routes: the article's two plus the resource routes. One function serves them all (one axum
 * router), each route an explicit API Gateway method so unknown paths never reach the function.
 */
export const API_ROUTES: ReadonlyArray<{ readonly method: string; readonly path: string }> = [
  { method: 'POST', path: '/add-user' },
  { method: 'GET', path: '/get-users' },
  { method: 'POST', path: '/users' },
  { method: 'GET', path: '/users' },
  { method: 'GET', path: '/users/{id}' },
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/openapi.json' },
];

/**
 * What the migration function does with the ledger table (ledger rows and the lock item): read the
 * lock, query the ledger, take/renew/release the lease, and write rows in `TransactWriteItems`
 * (a ConditionCheck on the lock item plus a Put/Update/Delete of the row; IAM authorises each part by
 * its item action). Nothing else: no scans, no batch writes, no table management.
 */
export const LEDGER_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
];

/**
 * The stage's throttling, for every method: steady requests per second and the burst above it. With the
 * API function's reserved concurrency it bounds what a client flood can cost (Lambda, Data API calls,
 * Aurora capacity) before API Gateway answers 429.
 */
export const STAGE_THROTTLING = { rateLimit: 50, burstLimit: 100 } as const;

export interface UsersServiceStackProps extends StackProps {
  readonly config: StackConfig;
}

export class UsersServiceStack extends Stack {
  readonly cluster: rds.DatabaseCluster;
  /** The API user's secret, attached to the cluster (its ARN is what the Data API takes). */
  readonly apiSecret: secretsmanager.ISecret;
  readonly ledgerTable: dynamodb.Table;
  readonly apiFunction: lambda.Function;
  readonly migrationFunction: lambda.Function;
  readonly api: apigateway.RestApi;
  readonly migrationTrigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: UsersServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    const production = config.deletionProtection;

    // The cluster lives in isolated subnets: nothing connects to it over the network, every function
    // goes through the Data API over HTTPS, so there is no NAT gateway and no Lambda in the VPC.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: clusterEngine(config.engine, config.engineVersion),
      credentials: rds.Credentials.fromGeneratedSecret(config.engine === 'postgres' ? 'postgres' : 'admin'),
      defaultDatabaseName: DATABASE_NAME,
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: config.minCapacity,
      serverlessV2MaxCapacity: config.maxCapacity,
      enableDataApi: true,
      storageEncrypted: true,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      deletionProtection: config.deletionProtection,
      backup: { retention: Duration.days(config.backupRetentionDays) },
      removalPolicy: production ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
    });
    const secret = this.cluster.secret;
    if (!secret) throw new Error('the cluster has no generated credentials secret');

    // The migrations ledger and its lock item (see migration/src/ledger): string PK/SK, on demand.
    this.ledgerTable = new dynamodb.Table(this, 'MigrationsTable', {
      partitionKey: { name: 'PK', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'SK', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.deletionProtection,
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // The API's own user, in a generated secret of the master secret's shape (username, password, and
    // once attached, the cluster's engine, host and port), attached to the cluster as the Data API
    // requires. The default excluded characters keep quotes and backslashes out of the password.
    const apiSecret = new rds.DatabaseSecret(this, 'ApiSecret', { username: API_DATABASE_USER, dbname: DATABASE_NAME });
    this.apiSecret = apiSecret.attach(this.cluster);

    const databaseEnvironment = {
      CLUSTER_ARN: this.cluster.clusterArn,
      DATABASE_NAME,
      DATABASE_ENGINE: config.engine,
      RUST_LOG: config.rustLog,
    };

    this.apiFunction = this.rustFunction('UsersApi', {
      manifest: 'api/Cargo.toml',
      binaryName: 'api',
      // The Lambda build: without the `native` feature (SeaORM's sqlx drivers, the embedded SQLite),
      // which the function never uses; it reaches the cluster through the Data API only.
      cargoLambdaFlags: ['--no-default-features'],
      timeout: API_TIMEOUT,
      memorySize: 256,
      description: 'The users REST API (one axum router behind API Gateway)',
      reservedConcurrentExecutions: config.apiReservedConcurrency,
      environment: {
        ...databaseEnvironment,
        // The API signs in as its own user, never as the master user.
        SECRET_ARN: this.apiSecret.secretArn,
        // Behind a REST API the path arrives with the stage prefix (/dev/add-user) unless told otherwise.
        AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
      },
    });
    // Not `cluster.grantDataApiAccess`, which also grants the master secret: the API may read its own
    // secret only.
    this.apiFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: DATA_API_ACTIONS, resources: [this.cluster.clusterArn] }),
    );
    this.apiSecret.grantRead(this.apiFunction);

    this.migrationFunction = this.rustFunction('RunMigrations', {
      manifest: 'run-migrations/Cargo.toml',
      binaryName: 'run-migrations',
      timeout: MIGRATION_TIMEOUT,
      memorySize: 256,
      description: 'Applies pending SeaORM migrations through the Data API (DynamoDB ledger and lock)',
      environment: {
        ...databaseEnvironment,
        // Migrations run DDL and create the API's user: the master user.
        SECRET_ARN: secret.secretArn,
        API_SECRET_ARN: this.apiSecret.secretArn,
        DYNAMODB_TABLE_NAME: this.ledgerTable.tableName,
        // The drift check's scratch database lives on this cluster and is reached the way the
        // migrations are (Data API, master secret): it needs no grant beyond theirs.
        SCHEMA_CHECK_AFTER_MIGRATE: config.schemaCheckAfterMigrate,
      },
    });
    this.cluster.grantDataApiAccess(this.migrationFunction);
    this.apiSecret.grantRead(this.migrationFunction);
    this.migrationFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: LEDGER_ACTIONS, resources: [this.ledgerTable.tableArn] }),
    );

    this.api = new apigateway.RestApi(this, 'UsersRestApi', {
      restApiName: `users-service-${config.stage}`,
      description: 'The users service (SeaORM on Aurora Serverless through the Data API)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        stageName: config.stage,
        throttlingRateLimit: STAGE_THROTTLING.rateLimit,
        throttlingBurstLimit: STAGE_THROTTLING.burstLimit,
      },
    });
    // The RestApi adds an output with a generated name; ApiUrl below is the one to read.
    this.api.node.tryRemoveChild('Endpoint');
    const integration = new apigateway.LambdaIntegration(this.apiFunction, { allowTestInvoke: false });
    for (const route of API_ROUTES) {
      this.api.root.resourceForPath(route.path).addMethod(route.method, integration);
    }

    // `cdk deploy` applies pending migrations once the cluster (and its writer) and the ledger exist, and
    // before the API stage is created or updated. RequestResponse makes the trigger wait for the
    // function's answer: a failed invocation (a migration that fails) fails the custom resource, and so
    // the deployment, which CloudFormation then rolls back. The trigger runs again whenever the function
    // changes, which is whenever a migration is added (they are compiled into the binary).
    this.migrationTrigger = new triggers.Trigger(this, 'MigrateOnDeploy', {
      handler: this.migrationFunction,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: MIGRATION_TIMEOUT.plus(Duration.seconds(60)),
      executeOnHandlerChange: true,
      executeAfter: [this.cluster, apiSecret, this.ledgerTable],
      executeBefore: [this.api.latestDeployment!, this.api.deploymentStage],
    });
    // The API's user exists once the trigger has run: the API function (whose secret names that user) is
    // created after it, so no version of the function is live before its user can sign in.
    this.apiFunction.node.addDependency(this.migrationTrigger);

    acknowledgeNagFindings({ api: this.api, cluster: this.cluster, apiSecret, vpc });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the users API (stage included)' });
    new CfnOutput(this, 'ClusterArn', { value: this.cluster.clusterArn, description: 'CLUSTER_ARN' });
    new CfnOutput(this, 'SecretArn', { value: secret.secretArn, description: 'SECRET_ARN of the master user (migrations)' });
    new CfnOutput(this, 'ApiSecretArn', {
      value: this.apiSecret.secretArn,
      description: "SECRET_ARN of the API's own user (SELECT and INSERT on users)",
    });
    new CfnOutput(this, 'LedgerTableName', {
      value: this.ledgerTable.tableName,
      description: 'DYNAMODB_TABLE_NAME (migrations ledger and lock)',
    });
    new CfnOutput(this, 'MigrationFunctionName', {
      value: this.migrationFunction.functionName,
      description: 'Invoke to apply pending migrations by hand',
    });
    new CfnOutput(this, 'DatabaseEngine', { value: `${config.engine} ${config.engineVersion}` });
  }

  /**
   * A Rust binary of the workspace as an arm64 Lambda on provided.al2023, with its own role and log
   * group: the role can write to that log group and nothing else until grants are added.
   */
  private rustFunction(
    id: string,
    props: {
      manifest: string;
      binaryName: string;
      /** Passed to `cargo lambda build` after the target's own flags (features). */
      cargoLambdaFlags?: string[];
      timeout: Duration;
      memorySize: number;
      description: string;
      environment: Record<string, string>;
      reservedConcurrentExecutions?: number;
    },
  ): lambda.Function {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);
    const fn = new RustFunction(this, `${id}Function`, {
      manifestPath: path.join(REPO_ROOT, props.manifest),
      binaryName: props.binaryName,
      bundling: { cargoLambdaFlags: props.cargoLambdaFlags },
      runtime: 'provided.al2023',
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      description: props.description,
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role,
      logGroup,
    });
    return fn;
  }
}

function clusterEngine(engine: Engine, version: string): rds.IClusterEngine {
  if (engine === 'mysql') {
    // "8.0.mysql_aurora.3.10.3" → major "8.0"
    return rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.of(version, '8.0') });
  }
  return rds.DatabaseClusterEngine.auroraPostgres({
    version: rds.AuroraPostgresEngineVersion.of(version, '16'),
  });
}
