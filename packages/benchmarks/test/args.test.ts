import { parseArgs, type ArgsSpec } from '../src/args';

const HELP = 'usage: bench [options]';

/** The benchmark scripts' parser, with a given environment instead of process.env. */
const parse = (argv: string[], spec: Partial<ArgsSpec> = {}) =>
  parseArgs(argv, { help: HELP, values: ['tx-size', 'rate', 'out'], flags: ['profile', 'no-out'], env: {}, ...spec });

describe('benchmark command line', () => {
  it('reads --name value and --name=value (the value may hold "=")', () => {
    const args = parse(['--tx-size', '10', '--out=a=b.json']);
    expect(args.raw('tx-size')).toBe('10');
    expect(args.raw('out')).toBe('a=b.json');
    expect(args.given('out')).toBe('a=b.json');
    expect(args.raw('rate')).toBeUndefined();
    expect(parse(['--out', '--profile']).raw('out')).toBe('--profile');
  });

  it('falls back to BENCH_<NAME>, the command line first, and not at all with env: null', () => {
    const env = { BENCH_TX_SIZE: '20', BENCH_OUT: 'env.json', BENCH_PROFILE: '1' };
    const args = parse(['--out', 'cli.json'], { env });
    expect(args.raw('tx-size')).toBe('20');
    expect(args.number('tx-size', 5)).toBe(20);
    expect(args.raw('out')).toBe('cli.json');
    expect(args.given('tx-size')).toBeUndefined();
    expect(args.raw('profile')).toBe('1');
    expect(args.flag('profile')).toBe(false);
    expect(parse([], { env: null }).raw('tx-size')).toBeUndefined();
  });

  it('takes switches without a value', () => {
    const args = parse(['--profile', '--no-out=whatever', '--rate', '3']);
    expect(args.flag('profile')).toBe(true);
    expect(args.flag('no-out')).toBe(true);
    expect(args.raw('profile')).toBe('true');
    expect(args.flag('out')).toBe(false);
    expect(args.flag('rate')).toBe(true);
    expect(args.number('rate', 0)).toBe(3);
  });

  it('refuses unknown options, stray arguments and missing values', () => {
    expect(() => parse(['--bogus', '1'])).toThrow(`unknown option --bogus\n${HELP}`);
    expect(() => parse(['--bogus=1'])).toThrow(`unknown option --bogus\n${HELP}`);
    expect(() => parse(['stray'])).toThrow(`unexpected argument "stray"\n${HELP}`);
    expect(() => parse(['--rate'])).toThrow('--rate needs a value');
  });

  it('validates numbers, naming the option and its env variable', () => {
    expect(parse([]).number('rate', 7)).toBe(7);
    expect(parse(['--rate', '']).number('rate', 7)).toBe(7);
    expect(() => parse(['--rate', 'abc']).number('rate', 7)).toThrow('--rate (BENCH_RATE) must be an integer >= 1, got "abc"');
    expect(() => parse(['--rate', '0']).number('rate', 7)).toThrow('--rate (BENCH_RATE) must be an integer >= 1, got "0"');
    expect(() => parse(['--rate', '1.5']).number('rate', 7)).toThrow('--rate (BENCH_RATE) must be an integer >= 1, got "1.5"');
    expect(parse(['--rate', '0']).number('rate', 7, { min: 0 })).toBe(0);
    expect(parse(['--rate=0.5']).number('rate', 7, { min: 0.1, integer: false })).toBe(0.5);
    expect(() => parse(['--rate=0.05']).number('rate', 7, { min: 0.1, integer: false })).toThrow('--rate (BENCH_RATE) must be a number >= 0.1, got "0.05"');
    expect(() => parse([], { env: { BENCH_RATE: 'Infinity' } }).number('rate', 7)).toThrow('--rate (BENCH_RATE) must be an integer >= 1, got "Infinity"');
    expect(() => parse(['--rate', 'abc'], { env: null }).number('rate', 7)).toThrow(/^--rate must be an integer >= 1, got "abc"$/);
  });

  it('prints the help and exits 0 on --help or -h, wherever it stands', () => {
    for (const argv of [['--help'], ['-h'], ['--rate', '3', '-h', '--bogus']]) {
      const printed: string[] = [];
      const exit = (code: number): never => {
        throw new Error(`exit ${code}`);
      };
      expect(() => parse(argv, { print: (text) => printed.push(text), exit })).toThrow('exit 0');
      expect(printed).toEqual([HELP]);
    }
  });
});
