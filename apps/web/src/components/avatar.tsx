/**
 * A round avatar: the profile picture when there is one (shown through an object URL that
 * is revoked when the picture changes or the avatar unmounts), else the name's initials.
 */
import type { Avatar } from '@vaultex/client/browser';
import { useEffect, useState } from 'react';
import { initials } from '../lib/format.js';

/** An object URL for `avatar`, revoked when it changes or the component unmounts. */
export function useAvatarUrl(avatar: Avatar | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  const bytes = avatar?.bytes;
  const mime = avatar?.mime;
  useEffect(() => {
    if (!bytes || !mime) {
      setUrl(undefined);
      return;
    }
    const next = URL.createObjectURL(new Blob([new Uint8Array(bytes)], { type: mime }));
    setUrl(next);
    return () => URL.revokeObjectURL(next);
  }, [bytes, mime]);
  return url;
}

/** The avatar of `name`; decorative (the name is always shown next to it). */
export function AvatarImage({ name, avatar, className }: { name: string; avatar?: Avatar; className?: string }) {
  const url = useAvatarUrl(avatar);
  return (
    <span className={`avatar${className ? ` ${className}` : ''}`} aria-hidden="true">
      {url ? <img src={url} alt="" data-testid="avatar-image" /> : initials(name)}
    </span>
  );
}
