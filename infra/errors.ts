/**
 * An error osls prints as is: it shows `error.stack` of what a resolver throws, so the stack is
 * replaced by the message (ours already names the file, the path and the fix).
 */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackError";
    this.stack = message;
  }
}
