import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { ERROR_REGISTRY, GatewayError, type ErrorCode } from '../../core/errors.js';

interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Fastify's own 4xx failures (body parsing, content type, URL) and what to tell the caller. */
const FRAMEWORK_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The content type of the body is not accepted here.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty but its content type says JSON.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_BAD_URL: 'The URL is not valid.',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'The body must be multipart/form-data.',
  FST_PROTO_VIOLATION: 'A form field name is not allowed.',
  FST_MP_PREMATURE_CLOSE: 'The upload ended before it was complete.',
};

/** Translates any thrown value into a registry code and a message that is safe to send. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof GatewayError) return body(error.code, error.message);

  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
    return body('invalid_request', `Field ${where}: ${issue?.message ?? 'not valid'}.`);
  }

  const framework = error as Partial<FastifyError>;
  if (framework.validation !== undefined)
    return body('invalid_request', 'The request is not valid.');
  if (framework.statusCode === 413) return body('too_large');
  if (framework.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return body('invalid_request', 'The body is not valid JSON.');
  }
  if (
    typeof framework.statusCode === 'number' &&
    framework.statusCode >= 400 &&
    framework.statusCode < 500
  ) {
    const message = framework.code === undefined ? undefined : FRAMEWORK_MESSAGES[framework.code];
    return body('invalid_request', message);
  }

  return body('internal');
}

function body(code: ErrorCode, message?: string): ErrorBody {
  return { error: { code, message: message ?? ERROR_REGISTRY[code].message } };
}

/**
 * The one place errors become answers: `{"error": {"code", "message"}}` with the registry's
 * status. Unknown failures answer 500 `internal` with the generic message; the error itself goes
 * to the log only.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const answer = toErrorBody(error);
    const status = ERROR_REGISTRY[answer.error.code].status;

    if (status >= 500) {
      request.log.error({ err: error }, `request failed: ${answer.error.code}`);
    } else if (!(error instanceof GatewayError)) {
      request.log.debug({ err: error }, `request refused: ${answer.error.code}`);
    }

    sendError(request, reply, status, answer);
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(request, reply, 404, body('not_found'));
  });
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  answer: ErrorBody,
): void {
  request.errorCode = answer.error.code;
  if (status === 401) reply.header('www-authenticate', 'Bearer');

  // Errors can come from any scope, some without the security-header plugin: set the essentials.
  reply
    .code(status)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(answer);
}
