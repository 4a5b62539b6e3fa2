// node-red-node-test-helper, bound to the runtime chosen by NR_RUNTIME.
import helper = require("node-red-node-test-helper");
import { runtimeMain } from "./runtime";

helper.init(runtimeMain);
export = helper;
