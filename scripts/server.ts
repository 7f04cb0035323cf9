#!/usr/bin/env node
// Starts the Convene server (npm start runs the built copy of this file).
import { main } from '../src/server.js';

await main();
