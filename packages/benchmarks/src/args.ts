/**
 * Command line of the benchmark scripts: `--name value` and `--name=value` options, switches
 * (`--profile`, `--no-out`: no value), `--help`/`-h`, and the env variable BENCH_<NAME> as the
 * fallback of every option (`--tx-size` <-> BENCH_TX_SIZE) unless `env: null`.
 */

export interface ArgsSpec {
  /** Printed by --help / -h, and with an unknown option or an unexpected argument. */
  help: string;
  /** Options that take a value, without their `--`. */
  values: readonly string[];
  /** Switches, without their `--` (`--name=anything` counts as given). */
  flags?: readonly string[];
  /** Where the BENCH_<NAME> fallbacks are read (default process.env); null: no fallbacks. */
  env?: Readonly<Record<string, string | undefined>> | null;
  /** How --help prints and exits (default console.log, process.exit): for tests. */
  print?: (text: string) => void;
  exit?: (code: number) => never;
}

export interface Args {
  /** The value on the command line ('true' for a switch given), else BENCH_<NAME>, else undefined. */
  raw: (name: string) => string | undefined;
  /** The value on the command line only ('true' for a switch given). */
  given: (name: string) => string | undefined;
  /** Whether the option or switch is on the command line. */
  flag: (name: string) => boolean;
  /** raw(name) as a number, `fallback` when absent or empty; throws naming the option (and its env variable) when invalid. */
  number: (name: string, fallback: number, range?: { min?: number; integer?: boolean }) => number;
}

/** `tx-size` -> `BENCH_TX_SIZE`. */
function envName(name: string): string {
  return `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;
}

export function parseArgs(argv: readonly string[], spec: ArgsSpec): Args {
  const { help, values, flags = [], env = process.env, print = console.log, exit = (code: number) => process.exit(code) } = spec;
  const given = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--help' || arg === '-h') {
      print(help);
      return exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${help}`);
    const equals = arg.indexOf('=');
    const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
    if (flags.includes(name)) given.set(name, 'true');
    else if (values.includes(name)) {
      const value = equals < 0 ? argv[++index] : arg.slice(equals + 1);
      if (value === undefined) throw new Error(`--${name} needs a value`);
      given.set(name, value);
    } else throw new Error(`unknown option --${name}\n${help}`);
  }
  const raw = (name: string) => given.get(name) ?? env?.[envName(name)];
  return {
    raw,
    given: (name) => given.get(name),
    flag: (name) => given.has(name),
    number: (name, fallback, { min = 1, integer = true } = {}) => {
      const value = raw(name);
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
        const option = env ? `--${name} (${envName(name)})` : `--${name}`;
        throw new Error(`${option} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`);
      }
      return parsed;
    },
  };
}
