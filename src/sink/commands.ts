// Commands over MQTT: `<base>/<camera>/recognition/set` with `ON` or `OFF`. Parsing is pure; what
// is refused says why, so the sink can count it and log it once per burst. A retained command is
// refused: it would be applied again on every reconnect, undoing later switches.
import type { RecognitionCommand } from '../types.js';
import type { CommandResult } from './metrics.js';
import type { SinkTopics } from './topics.js';

export type ParsedCommand =
  | { result: 'accepted'; command: RecognitionCommand }
  | { result: Exclude<CommandResult, 'accepted'>; camera: string; why: string };

/** Undefined when the topic is no command topic; otherwise the command or why it is refused. */
export function parseCommand(
  topics: SinkTopics,
  topic: string,
  payload: Buffer,
  retained: boolean,
  cameras: ReadonlySet<string>,
): ParsedCommand | undefined {
  const camera = topics.recognitionSetCamera(topic);
  if (camera === undefined) return undefined;
  const text = payload.toString('utf8');
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
  if (retained) return { result: 'retained', camera, why: `a retained command ${shown} on ${topic} is ignored (publish commands without retain)` };
  if (!cameras.has(camera)) return { result: 'unknown_camera', camera, why: `a command on ${topic} names no configured camera` };
  const word = text.trim().toUpperCase();
  if (word !== 'ON' && word !== 'OFF') return { result: 'bad_payload', camera, why: `the payload ${shown} on ${topic} is neither ON nor OFF` };
  return { result: 'accepted', command: { type: 'recognition', camera, enabled: word === 'ON' } };
}
