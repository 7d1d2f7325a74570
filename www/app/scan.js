// Folder scanning: the File System Access API where the browser has it (its handles can be
// kept in IndexedDB and reopened), `<input webkitdirectory>` everywhere else.

const IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'heic', 'heif', 'avif', 'bmp', 'tif', 'tiff', 'svg', 'raw', 'cr2', 'nef', 'arw', 'dng']);
const VIDEO_EXTENSIONS = new Set(['mp4', 'mov', 'm4v', 'avi', 'mkv', 'webm', 'wmv', 'flv', 'mpg', 'mpeg', '3gp', 'mts', 'm2ts']);

/** image / video / other, by MIME type first, then by extension (type is often empty). */
export function classify(file) {
  if (file.type.startsWith('image/')) return 'image';
  if (file.type.startsWith('video/')) return 'video';
  const dot = file.name.lastIndexOf('.');
  const extension = dot >= 0 ? file.name.slice(dot + 1).toLowerCase() : '';
  if (IMAGE_EXTENSIONS.has(extension)) return 'image';
  if (VIDEO_EXTENSIONS.has(extension)) return 'video';
  return 'other';
}

/** Names operating systems leave in folders (Finder's `.DS_Store` and `._` AppleDouble files,
 *  Windows' `Thumbs.db` and `desktop.ini`): not the person's files. Case as Windows ignores it. */
const SYSTEM_FILE_NAMES = new Set(['.ds_store', 'thumbs.db', 'desktop.ini']);

/** True for OS junk the upload page leaves out unless asked to include it. */
export function isSystemFile(name) {
  return SYSTEM_FILE_NAMES.has(name.toLowerCase()) || name.startsWith('._');
}

export const hasDirectoryPicker = () => typeof window.showDirectoryPicker === 'function';

/** Files from an `<input>`: `{folder, path, file}` with path `folder/sub/name`. */
export function filesFromInput(fileList) {
  const out = [];
  for (const file of fileList) {
    // webkitRelativePath is "root/sub/name" for a folder pick and empty for plain files.
    const path = file.webkitRelativePath || `(files)/${file.name}`;
    out.push({ folder: path.split('/')[0], path, file });
  }
  return out;
}

/** Asks for read permission on a stored handle; prompts only on a user gesture. */
export async function ensureReadPermission(handle) {
  const options = { mode: 'read' };
  if ((await handle.queryPermission(options)) === 'granted') return true;
  return (await handle.requestPermission(options)) === 'granted';
}

/** Walks a directory handle; yields `{folder, path, file}`, skipping unreadable entries. */
export async function filesFromDirectoryHandle(root) {
  const out = [];
  async function walk(directory, prefix) {
    for await (const [name, handle] of directory.entries()) {
      const path = `${prefix}/${name}`;
      if (handle.kind === 'directory') {
        await walk(handle, path);
      } else {
        try {
          out.push({ folder: root.name, path, file: await handle.getFile() });
        } catch (error) {
          console.warn(`skipped ${path}:`, error);
        }
      }
    }
  }
  await walk(root, root.name);
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}
