/**
 * Every error Enclave returns has a stable `code` from this table. The HTTP status and the default
 * human message live here too, so the server, the SDK and the docs agree (docs/protocol.md lists them).
 */
export const errorCodes = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  validation_failed: { status: 400, message: 'The request does not match the schema.' },
  bad_json: { status: 400, message: 'The frame is not valid JSON.' },
  unknown_op: { status: 400, message: 'Unknown operation.' },
  frame_too_large: { status: 413, message: 'The frame exceeds the size limit.' },
  body_too_large: { status: 413, message: 'The request body exceeds the size limit.' },
  unauthenticated: { status: 401, message: 'Sign in first.' },
  invalid_credentials: { status: 401, message: 'Wrong username or password.' },
  login_throttled: { status: 429, message: 'Too many failed sign-ins; try again later.' },
  account_disabled: { status: 403, message: 'This account is disabled.' },
  password_change_required: { status: 403, message: 'Change your password before continuing.' },
  weak_password: { status: 400, message: 'The new password does not meet the password rules.' },
  forbidden: { status: 403, message: 'You are not allowed to do this.' },
  origin_not_allowed: { status: 403, message: 'This origin is not allowed.' },
  not_found: { status: 404, message: 'Not found.' },
  user_not_found: { status: 404, message: 'User not found.' },
  session_not_found: { status: 404, message: 'Session not found.' },
  conversation_not_found: { status: 404, message: 'Conversation not found.' },
  message_not_found: { status: 404, message: 'Message not found.' },
  username_taken: { status: 409, message: 'That username is taken.' },
  idempotency_conflict: {
    status: 409,
    message: 'This client id was already used for a different request.',
  },
  not_a_member: { status: 403, message: 'You are not a member of this conversation.' },
  conversation_read_only: { status: 409, message: 'This conversation has been dissolved.' },
  member_muted: { status: 403, message: 'You are muted in this conversation.' },
  conversation_muted: { status: 403, message: 'Only admins may post while the group is muted.' },
  recall_window_passed: { status: 409, message: 'The time allowed to recall this message has passed.' },
  message_recalled: { status: 409, message: 'The message was recalled.' },
  not_signoff: { status: 409, message: 'This message does not require sign-off.' },
  group_too_large: { status: 409, message: 'The group has reached its member limit.' },
  owner_cannot_leave: { status: 409, message: 'Transfer ownership before leaving the group.' },
  department_not_found: { status: 404, message: 'Department not found.' },
  department_not_empty: {
    status: 409,
    message: 'The department still has sub-departments or people; move them first.',
  },
  department_cycle: { status: 409, message: 'A department cannot move under its own subtree.' },
  employee_no_taken: { status: 409, message: 'That employee number belongs to someone else.' },
  profile_field_locked: { status: 403, message: 'Your administrator does not let users edit this field.' },
  typing_disabled: { status: 409, message: 'Typing indicators are off in groups this large.' },
  file_not_found: { status: 404, message: 'File not found.' },
  upload_not_found: { status: 404, message: 'Upload not found.' },
  upload_offset_mismatch: {
    status: 409,
    message: "The upload offset does not match the server's; ask with HEAD and continue from there.",
  },
  file_too_large: { status: 413, message: 'The file exceeds the size limit set by your administrator.' },
  file_type_not_allowed: { status: 415, message: 'Your administrator does not allow files of this type.' },
  file_name_invalid: { status: 400, message: 'The file name or path is not allowed.' },
  preview_unavailable: { status: 409, message: 'No preview can be made of this file on this server.' },
  search_query_invalid: { status: 400, message: 'The search query is not valid.' },
  search_cursor_invalid: { status: 400, message: 'The search cursor is not valid; start the search again.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  server_busy: { status: 503, message: 'The server is busy; retry shortly.' },
  internal_error: { status: 500, message: 'Something went wrong on the server.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;
export const errorCodeList = Object.keys(errorCodes) as ErrorCode[];

/** Codes a client should retry automatically (with backoff). */
export const retryableCodes: ReadonlySet<ErrorCode> = new Set(['server_busy', 'rate_limited', 'internal_error']);

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** The one error type: a code from the table, a human message and optional structured details. */
export class EnclaveError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? errorCodes[code].message);
    this.name = 'EnclaveError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return errorCodes[this.code].status;
  }
  get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
  static fromBody(body: ErrorBody): EnclaveError {
    const code = body.code in errorCodes ? body.code : 'internal_error';
    return new EnclaveError(code, body.message, body.details);
  }
}
