import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CfnElement } from 'aws-cdk-lib';
import { dependsOn, idsOfType, onlyOfType, secrets, type Synthesized, synth } from './helpers';

/** "METHOD /path" for every method, the path rebuilt from the resource tree. */
function routes(json: Synthesized['json']): string[] {
  const [apiId] = onlyOfType(json, 'AWS::ApiGateway::RestApi');
  const pathOf = (ref: any): string => {
    if (ref['Fn::GetAtt']?.[0] === apiId && ref['Fn::GetAtt'][1] === 'RootResourceId') return '';
    const resource = json.Resources[ref.Ref];
    assert.equal(resource.Type, 'AWS::ApiGateway::Resource');
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };
  return idsOfType(json, 'AWS::ApiGateway::Method')
    .map((id) => json.Resources[id].Properties)
    .map((method) => `${method.HttpMethod} ${pathOf(method.ResourceId) || '/'}`)
    .sort();
}

describe('REST API', () => {
  it('has the article routes and the resource routes, and nothing else', () => {
    assert.deepEqual(routes(synth().json), [
      'GET /get-users',
      'GET /health',
      'GET /openapi.json',
      'GET /users',
      'GET /users/{id}',
      'POST /add-user',
      'POST /users',
    ]);
  });

  it('sends every route to the API function as a Lambda proxy integration', () => {
    const s = synth();
    const fnId = s.stack.getLogicalId(s.stack.apiFunction.node.defaultChild as CfnElement);
    const methods = idsOfType(s.json, 'AWS::ApiGateway::Method').map((id) => s.json.Resources[id].Properties);
    assert.equal(methods.length, 7);
    for (const method of methods) {
      assert.equal(method.Integration.Type, 'AWS_PROXY');
      assert.equal(method.Integration.IntegrationHttpMethod, 'POST');
      assert.match(JSON.stringify(method.Integration.Uri), new RegExp(`"${fnId}","Arn"`));
      assert.equal(method.AuthorizationType, 'NONE');
    }
    // One invoke permission per route, scoped to that method and path of this API's stage.
    const permissions = idsOfType(s.json, 'AWS::Lambda::Permission').map((id) => s.json.Resources[id].Properties);
    assert.equal(permissions.length, 7);
    for (const permission of permissions) {
      assert.deepEqual(permission.FunctionName, { 'Fn::GetAtt': [fnId, 'Arn'] });
      assert.equal(permission.Principal, 'apigateway.amazonaws.com');
      assert.doesNotMatch(JSON.stringify(permission.SourceArn), /test-invoke-stage/);
    }
  });

  it('is deployed to a regional stage named after the stage', () => {
    for (const stage of ['dev', 'prod']) {
      const { template } = synth({ stage });
      template.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: stage });
      template.hasResourceProperties('AWS::ApiGateway::RestApi', {
        Name: `users-service-${stage}`,
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    }
  });

  it('throttles every method of the stage at 50 requests/s with bursts of 100', () => {
    for (const context of [{}, { stage: 'prod' }]) {
      const { json } = synth(context);
      const [, stage] = onlyOfType(json, 'AWS::ApiGateway::Stage');
      assert.deepEqual(stage.Properties.MethodSettings, [
        { DataTraceEnabled: false, HttpMethod: '*', ResourcePath: '/*', ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      ]);
    }
  });

  it('outputs the API URL, cluster ARN, secret ARN, table name and migration function', () => {
    const s = synth();
    const outputs = s.json.Outputs ?? {};
    assert.deepEqual(Object.keys(outputs).sort(), [
      'ApiUrl',
      'ClusterArn',
      'DatabaseEngine',
      'LedgerTableName',
      'ApiSecretArn',
      'MigrationFunctionName',
      'SecretArn',
    ].sort());
    const [apiId] = onlyOfType(s.json, 'AWS::ApiGateway::RestApi');
    const [stageId] = onlyOfType(s.json, 'AWS::ApiGateway::Stage');
    const url = JSON.stringify(outputs.ApiUrl.Value);
    assert.ok(url.includes(`"https://",{"Ref":"${apiId}"},".execute-api."`) && url.includes(`{"Ref":"${stageId}"}`), url);
    const [clusterId] = onlyOfType(s.json, 'AWS::RDS::DBCluster');
    assert.match(JSON.stringify(outputs.ClusterArn.Value), new RegExp(`":cluster:",\\{"Ref":"${clusterId}"\\}`));
    const { master, api } = secrets(s.json);
    assert.deepEqual(outputs.SecretArn.Value, { Ref: master.attachmentId });
    assert.deepEqual(outputs.ApiSecretArn.Value, { Ref: api.attachmentId });
    const [tableId] = onlyOfType(s.json, 'AWS::DynamoDB::Table');
    assert.deepEqual(outputs.LedgerTableName.Value, { Ref: tableId });
    const fnId = s.stack.getLogicalId(s.stack.migrationFunction.node.defaultChild as CfnElement);
    assert.deepEqual(outputs.MigrationFunctionName.Value, { Ref: fnId });
    assert.equal(synth({ engine: 'postgres' }).json.Outputs?.DatabaseEngine.Value, 'postgres 16.13');
  });
});

describe('deploy-time migrations', () => {
  it('invoke the migration function synchronously, so a failed migration fails the deployment', () => {
    const s = synth();
    const [, trigger] = onlyOfType(s.json, 'Custom::Trigger');
    const fnId = s.stack.getLogicalId(s.stack.migrationFunction.node.defaultChild as CfnElement);
    const versionId = trigger.Properties.HandlerArn.Ref;
    assert.equal(s.json.Resources[versionId].Type, 'AWS::Lambda::Version');
    assert.deepEqual(s.json.Resources[versionId].Properties.FunctionName, { Ref: fnId });
    assert.equal(trigger.Properties.InvocationType, 'RequestResponse');
    assert.equal(trigger.Properties.ExecuteOnHandlerChange, true);
    // The trigger must outwait the function (180 s), or it gives up on a migration still running.
    assert.ok(Number(trigger.Properties.Timeout) > 180_000, trigger.Properties.Timeout);
  });

  it('run after the cluster, its writer, both secrets and the ledger table exist', () => {
    for (const engine of ['mysql', 'postgres']) {
      const { json } = synth({ engine });
      const [, trigger] = onlyOfType(json, 'Custom::Trigger');
      const after = dependsOn(trigger);
      const { master, api } = secrets(json);
      const ids = ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::DynamoDB::Table'].map(
        (type) => onlyOfType(json, type)[0],
      );
      for (const id of [...ids, master.attachmentId, api.attachmentId]) {
        assert.ok(after.includes(id), `${engine}: the trigger does not wait for ${id}: ${after.join(', ')}`);
      }
    }
  });

  it('run before the API function exists, so the API never signs in as a user not yet created', () => {
    const { json, stack } = synth();
    const [triggerId] = onlyOfType(json, 'Custom::Trigger');
    const fnId = stack.getLogicalId(stack.apiFunction.node.defaultChild as CfnElement);
    assert.ok(dependsOn(json.Resources[fnId]).includes(triggerId), dependsOn(json.Resources[fnId]).join(', '));
  });

  it('run before the API deployment and stage, so the API is never served on an old schema', () => {
    const { json } = synth();
    const [triggerId] = onlyOfType(json, 'Custom::Trigger');
    const [, deployment] = onlyOfType(json, 'AWS::ApiGateway::Deployment');
    const [, stage] = onlyOfType(json, 'AWS::ApiGateway::Stage');
    assert.ok(dependsOn(deployment).includes(triggerId), dependsOn(deployment).join(', '));
    assert.ok(dependsOn(stage).includes(triggerId), dependsOn(stage).join(', '));
  });
});
