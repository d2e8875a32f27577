// Synthesizes the stack offline (bundling skipped) once per context and hands out the template.
import { Template } from 'aws-cdk-lib/assertions';
import { buildOfflineApp } from '../lib/offline';
import type { UsersServiceStack } from '../lib/users-service-stack';

export interface Synthesized {
  readonly stack: UsersServiceStack;
  readonly template: Template;
  /** The raw template, for walking resources the assertion helpers do not reach. */
  readonly json: { Resources: Record<string, any>; Outputs?: Record<string, any> };
}

const cache = new Map<string, Synthesized>();

export function synth(context: Record<string, unknown> = {}): Synthesized {
  const key = JSON.stringify(context);
  let entry = cache.get(key);
  if (!entry) {
    const { stack } = buildOfflineApp(context);
    const template = Template.fromStack(stack);
    entry = { stack, template, json: template.toJSON() as Synthesized['json'] };
    cache.set(key, entry);
  }
  return entry;
}

/** Logical ids of the resources of one type. */
export function idsOfType(json: Synthesized['json'], type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/** The one resource of a type, failing when there are none or several. */
export function onlyOfType(json: Synthesized['json'], type: string): [string, any] {
  const ids = idsOfType(json, type);
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}: ${ids.join(', ')}`);
  return [ids[0], json.Resources[ids[0]]];
}

/** DependsOn as a list. */
export function dependsOn(resource: { DependsOn?: string | string[] }): string[] {
  const value = resource.DependsOn ?? [];
  return Array.isArray(value) ? value : [value];
}

/** The generated secrets (master user and API user) and their attachments to the cluster, by user name. */
export function secrets(json: Synthesized['json']): Record<'master' | 'api', { secretId: string; attachmentId: string }> {
  const byUser = new Map<string, { secretId: string; attachmentId: string }>();
  for (const attachmentId of idsOfType(json, 'AWS::SecretsManager::SecretTargetAttachment')) {
    const secretId = json.Resources[attachmentId].Properties.SecretId.Ref;
    const template = json.Resources[secretId].Properties.GenerateSecretString.SecretStringTemplate;
    byUser.set(JSON.parse(template).username, { secretId, attachmentId });
  }
  const api = byUser.get('users_api');
  const master = [...byUser.entries()].filter(([user]) => user !== 'users_api');
  if (!api || master.length !== 1 || byUser.size !== 2) {
    throw new Error(`expected the master and users_api secrets, found ${[...byUser.keys()].join(', ')}`);
  }
  return { master: master[0][1], api };
}
