// The `cdk` CLI's entry point (cdk.json: `npx tsx bin/app.ts`). Context comes from cdk.json and `-c`.
import { buildApp } from '../lib/app';

buildApp().app.synth();
