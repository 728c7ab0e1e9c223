/** The local bare mirror of each app: write versions, push, fetch, read and archive them. */
export { openMirror, type AppMirror, type OpenMirrorOptions } from './app-mirror.js';
export type { VersionFile } from './fast-import-commit.js';
export type { WriteVersionInput, WriteVersionResult } from './write-version.js';
export { TagTakenError } from './write-version.js';
export type { ManifestCommitInput, ManifestCommitResult } from './manifest-commit.js';
export type { PublishManifestInput, PublishedManifest } from './publish-manifest.js';
export type { PushInput } from './push-refs.js';
export { REMOTE_MAIN_REF, REMOTE_TAGS_PREFIX, type RemoteState } from './fetch-remote.js';
export type { PlanInput, VersionPlan } from './plan-version.js';
export type { PublishVersionInput, PublishedVersion } from './publish-version.js';
export type { TreeEntry } from './list-files.js';
export type { VersionTag } from './refs.js';
export type { CloneMissingInput } from './clone-missing.js';
export { lsRemote, type RemoteRefs } from './ls-remote.js';
export { mirrorPath } from './mirror-location.js';
export { observeGitSpawns, type GitSpawnRecord } from './git-runner.js';
export { tagMessageOf, TAG_MESSAGE_MAX_BYTES } from './tag-message.js';
export { isGitDirSpelling, unsafeTreePathReason } from './tree-path.js';
