#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` writes dist/). The polyfill must load first.
import '../dist/polyfill.js';
import { main } from '../dist/cli/ledgerctl.js';

await main();
