// A stand-in daemon for tests: runs one camera source from argv[2] and prints each source child's
// pid ("child <pid>") and "frame" for each frame on stdout, until it is killed.
import { cameraSource } from '../../src/source/camera-source.js';

const print = (line: string) => process.stdout.write(`${line}\n`);
const source = cameraSource(
  { camera: 'host', url: process.argv[2]!, width: 16, height: 16 },
  {
    log: {
      debug: (obj, msg) => {
        if (msg === 'source child started') print(`child ${(obj as { pid: number }).pid}`);
      },
      info: () => undefined,
      warn: () => undefined,
    },
  },
);
source.frames.subscribe(() => print('frame'));
