// Synthesis without AWS and without building Rust: the context of cdk.json plus `offline=true`, which
// sets `aws:cdk:bundling-stacks = []` (see app.ts), so `Stack.bundlingRequired` is false, every asset
// with bundling options (both RustFunctions) is staged by reference and cargo-lambda never builds.
// cargo-lambda-cdk still probes `cargo lambda --version` once per process to pick local or Docker
// bundling; that probe builds nothing.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { App } from 'aws-cdk-lib';
import { buildApp } from './app';
import type { UsersServiceStack } from './users-service-stack';

export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'),
).context;

/** The app as `cdk synth` would build it from cdk.json plus `context`, with bundling skipped. */
export function buildOfflineApp(
  context: Record<string, unknown> = {},
  outdir?: string,
): { app: App; stack: UsersServiceStack } {
  return buildApp({
    context: { ...CDK_JSON_CONTEXT, ...context, offline: true },
    outdir,
  });
}
