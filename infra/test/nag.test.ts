// cdk-nag's AWS Solutions rules over the whole stack, on both engines and a production stage: no
// finding may remain unacknowledged, and every acknowledgement names its reason (lib/nag.ts).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildOfflineApp } from '../lib/offline';

/** "rule at construct path" for every violation the AwsSolutions pack reports. */
function findings(context: Record<string, unknown>): string[] {
  const outdir = mkdtempSync(path.join(tmpdir(), 'users-service-nag-'));
  try {
    const { app } = buildOfflineApp(context, outdir);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
      return [];
    } catch (error) {
      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
      const found: string[] = [];
      for (const plugin of report.pluginReports ?? []) {
        for (const violation of plugin.violations ?? []) {
          for (const resource of violation.violatingResources ?? violation.violatingConstructs ?? [{}]) {
            found.push(`${violation.ruleName} at ${resource.constructPath ?? resource.resourceLogicalId ?? '?'}`);
          }
        }
      }
      assert.ok(found.length > 0, `synthesis failed without a violation: ${error}`);
      return found;
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cdk-nag AwsSolutions', () => {
  for (const context of [{}, { engine: 'postgres' }, { stage: 'prod' }, { apiReservedConcurrency: 'none' }]) {
    it(`finds nothing unacknowledged (${JSON.stringify(context)})`, () => {
      assert.deepEqual(findings(context), []);
    });
  }

  it('reports what is not acknowledged (the check can fail)', () => {
    // A queue with none of the rules' settings, outside every acknowledged scope, is reported.
    const outdir = mkdtempSync(path.join(tmpdir(), 'users-service-nag-'));
    try {
      const { app, stack } = buildOfflineApp({ stage: 'nagprobe' }, outdir);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      new sqs.Queue(stack, 'ProbeQueue');
      assert.throws(() => app.synth(), /Validation failed/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
