#!/usr/bin/env node
import { cli } from '../cli/main.mjs';

cli(process.argv.slice(2));
