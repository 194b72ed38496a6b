// Worker threads start from JavaScript: this registers tsx in the thread, then runs loader-thread.ts.
import { register } from 'tsx/esm/api';

register();
await import('./loader-thread.ts');
