// proxy-addr (Express's own dependency) ships no types and no @types package is installed:
// the part of its API the gateway uses.
declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';

  type TrustFunction = (address: string, hop: number) => boolean;

  function proxyaddr(req: IncomingMessage, trust: TrustFunction): string;
  namespace proxyaddr {
    /** Throws on an address or CIDR it cannot read ("invalid IP address: ..."). */
    function compile(trusted: string | string[]): TrustFunction;
    function all(req: IncomingMessage, trust?: TrustFunction): string[];
  }
  export = proxyaddr;
}
