import { createInterface } from 'node:readline';
import { MstaError } from '../../errors.js';
import { ClipTokenizer } from '../../model/clip-tokenizer.js';
import { loadClipVocab } from '../../model/clip-vocab.js';
import { parseCommandArgs, type Command, type OptionTable } from './command.js';

const OPTIONS = {
  vocab: { type: 'string', value: 'FILE', help: 'the CLIP BPE merges file (required; a bundle has one)' },
} satisfies OptionTable;

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'text lines on stdin -> one JSON array of CLIP token ids per line (with start and end tokens)',
  options: OPTIONS,
  async run(argv) {
    const { values } = parseCommandArgs('tokenize', argv, OPTIONS);
    if (!values.vocab) throw new MstaError('CLI_USAGE', '--vocab FILE is required (a CLIP BPE merges file)', { where: 'tokenize' });
    // Load before reading stdin: a bad vocabulary fails at once, not after the input is consumed.
    const tokenizer = new ClipTokenizer(loadClipVocab(values.vocab));
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      process.stdout.write(`${JSON.stringify(tokenizer.tokenize(line))}\n`);
    }
    return 0;
  },
};
