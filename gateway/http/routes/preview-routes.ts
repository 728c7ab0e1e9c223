import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../../../core/errors.js';
import { credentialOf } from '../../auth/credentials.js';
import type { TokenVerifier } from '../../auth/token-verifier.js';
import type { AuthHooks } from '../auth-hooks.js';
import type { PreviewFile, PreviewFiles, PreviewService } from '../../preview/preview-service.js';
import { parsePreviewUrl } from '../../preview/preview-path.js';

export interface PreviewRouteDeps {
  auth: AuthHooks;
  verifier: TokenVerifier;
  preview: PreviewService;
}

const INDEX = 'index.html';

/**
 * `GET /preview/:appId/…` (the draft) and `/preview/:appId/v/:version/…` (a version): files of
 * the stored build's `dist/`, from the store and in-process caches only. This is the hot path,
 * so it has no hooks of its own: the credential check, the URL parse and two cache look-ups run
 * inline, and the answer headers were computed when the snapshot was first read.
 */
export async function previewRoutes(app: FastifyInstance, deps: PreviewRouteDeps): Promise<void> {
  const { auth, verifier, preview } = deps;

  app.get('/preview/*', async (request: FastifyRequest, reply: FastifyReply) => {
    // A token seen in the last minutes is answered from the verifier's memory without a promise.
    const credential = credentialOf(request.headers);
    const remembered =
      credential !== null && credential !== 'malformed'
        ? verifier.cached(credential.token)
        : undefined;
    const principal = remembered ?? (await auth.authenticate(request)).principal;
    if (principal.kind !== 'user') {
      throw new GatewayError('forbidden', 'Worker tokens are accepted on /internal/v1 only.');
    }
    request.principal = principal;

    const location = parsePreviewUrl(request.url);
    if (location.kind === 'not_found') throw new GatewayError('not_found');
    if (location.kind === 'redirect') return reply.redirect(location.location, 301);

    const ws = principal.workspaceId;
    const files =
      preview.cachedFiles(ws, location.appId, location.version) ??
      (await preview.files(ws, location.appId, location.version));

    const file = lookup(files, location.path);
    if (file === undefined) {
      // `/about` where `about/index.html` exists: send the browser to the folder so that the
      // page's relative links resolve against it.
      if (location.path !== '' && files.has(`${location.path}/${INDEX}`)) {
        return reply.redirect(`${request.url.split('?')[0]}/`, 301);
      }
      throw new GatewayError('not_found');
    }

    const headers = location.version === null ? file.draftHeaders : file.versionHeaders;
    if (request.headers['if-none-match'] === file.etag) {
      return reply.code(304).headers(headers).send();
    }

    const body = preview.cachedContent(file) ?? (await preview.content(ws, file));
    return reply.headers(headers).send(body);
  });
}

function lookup(files: PreviewFiles, path: string): PreviewFile | undefined {
  if (path === '' || path.endsWith('/')) return files.get(path + INDEX);
  return files.get(path);
}
