#!/usr/bin/env node
// Runs the compiled daemon (`npm run build` writes dist/). The polyfill must load first.
import '../dist/polyfill.js';
import { main } from '../dist/cli/ledger-node.js';

await main();
