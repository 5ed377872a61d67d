import { z } from 'zod';

/**
 * Every module takes zod from here. zod 4 probes `new Function` to compile fast object parsers
 * when a schema is built; under the app's Content-Security-Policy (no eval) that probe is
 * reported as a violation. jitless must be set before the first z.object() anywhere, which
 * importing z through this module guarantees. Interpreted parsing is fast enough for configs,
 * URLs and run files.
 */
z.config({ jitless: true });

export { z };
