// `npm run synth:offline`: synthesizes the stack for both engines and for a dev and a prod stage into
// cdk.out/offline/<engine>-<stage>/, without AWS credentials and without cargo-lambda (bundling
// skipped), for cfn-lint and for reading. Extra `key=value` arguments are passed as context to all.

import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { buildOfflineApp } from '../lib/offline';

const extra: Record<string, string> = {};
for (const arg of process.argv.slice(2)) {
  const eq = arg.indexOf('=');
  if (eq <= 0) {
    console.error(`usage: synth-offline [key=value ...] (got ${JSON.stringify(arg)})`);
    process.exit(2);
  }
  extra[arg.slice(0, eq)] = arg.slice(eq + 1);
}

const root = path.join(__dirname, '..', 'cdk.out', 'offline');
rmSync(root, { recursive: true, force: true });
for (const engine of ['mysql', 'postgres']) {
  for (const stage of ['dev', 'prod']) {
    const outdir = path.join(root, `${engine}-${stage}`);
    const { app, stack } = buildOfflineApp({ engine, stage, ...extra }, outdir);
    app.synth();
    console.log(path.relative(process.cwd(), path.join(outdir, stack.templateFile)));
  }
}
