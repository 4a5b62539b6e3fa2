/* eslint-disable @typescript-eslint/no-explicit-any -- the helper attaches sinon spies and untyped request objects */
// Minimal typings for node-red-node-test-helper 0.3 (it ships none).
declare module "node-red-node-test-helper" {
  import type { Server } from "node:http";
  interface TestNode {
    id: string;
    type: string;
    name?: string;
    [key: string]: unknown;
    on(event: string, listener: (...args: any[]) => void): this;
    receive(msg: object): void;
    send(msg: object): void;
    error: any;
    warn: any;
    log: any;
    status: any;
  }
  interface Helper {
    init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
    load(nodes: unknown, flows: object[], credentials?: Record<string, unknown>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    clearFlows(): Promise<void>;
    setFlows(flows: object[], type?: string, credentials?: Record<string, unknown>): Promise<void>;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    url(): string;
    request(): any;
    settings(s: Record<string, unknown>): void;
    log(): any;
    _server: Server;
    _RED: any;
  }
  const helper: Helper;
  export = helper;
}
