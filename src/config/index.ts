export { ConfigError, type ConfigIssue, formatIssue } from './errors.js';
export { loadConfigText, loadSieveConfig, validateConfigFile } from './load.js';
export { ConfigHolder, reloadCounter, watchConfig } from './watch.js';
