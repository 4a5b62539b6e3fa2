// TDengine users, as far as connecting goes: CREATE / ALTER / DROP USER and the password check of every
// endpoint (/ws conn, REST Basic auth, /rest/tmq subscribe). Privileges are not emulated: every user may do
// everything, like root. The configured user (root by default) cannot be dropped.
import { TdError } from "./errors.js";

/** TDengine's codes (mnode): user already exists / does not exist / root cannot be dropped. */
export const USER_CODE = { EXISTS: 0x0350, NOT_EXIST: 0x0351, NO_RIGHTS: 0x0357 } as const;

export class Users {
  private readonly passwords = new Map<string, string>();

  constructor(private readonly root: string, password: string) {
    this.passwords.set(root, password);
  }

  /** True when `user` exists and `password` is its password. */
  check(user: unknown, password: unknown): boolean {
    return typeof user === "string" && typeof password === "string" && this.passwords.has(user) && this.passwords.get(user) === password;
  }

  create(name: string, password: string, ifNotExists: boolean): void {
    if (this.passwords.has(name)) {
      if (ifNotExists) return;
      throw new TdError(USER_CODE.EXISTS, "User already exists");
    }
    this.passwords.set(name, password);
  }

  alter(name: string, password: string | undefined): void {
    if (!this.passwords.has(name)) throw new TdError(USER_CODE.NOT_EXIST, "Invalid user");
    if (password !== undefined) this.passwords.set(name, password);
  }

  drop(name: string, ifExists: boolean): void {
    if (name === this.root) throw new TdError(USER_CODE.NO_RIGHTS, "Insufficient privilege for operation");
    if (!this.passwords.delete(name) && !ifExists) throw new TdError(USER_CODE.NOT_EXIST, "Invalid user");
  }

  names(): string[] {
    return [...this.passwords.keys()];
  }
}
