import { createHash } from 'node:crypto';
import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, reject, route } from '@warren/core';
import { ImageSummary } from './messages';
import { averageColour, decodePpm } from './ppm';

// Both names can be changed per environment (and per test run).
const IMAGES = '${IMAGES_EXCHANGE:-images}';
const THUMBNAILS = '${THUMBNAILS_EXCHANGE:-thumbnails}';

/** Where uploads go: raw bytes, sent as application/octet-stream. */
@Publisher(IMAGES)
export class ImageUploads {
  readonly uploaded = route('image.uploaded', Buffer);
}

/** Summaries for whoever wants them: a fanout exchange, so any number of services can bind a queue. */
@Publisher(THUMBNAILS, { type: 'fanout' })
export class ThumbnailEvents {
  readonly ready = route('', ImageSummary);
}

/** Reads each uploaded image and publishes its summary. */
@injectable()
export class Thumbnailer {
  constructor(private readonly events: ThumbnailEvents) {}

  // A `Buffer` parameter receives the body as it arrived, whatever its content type: no decoding.
  @Consumer(IMAGES, 'image.uploaded', { queue: `${IMAGES}.thumbnailer`, maxBodyBytes: 8 * 1024 * 1024 })
  async summarise(bytes: Buffer, ctx: MessageContext): Promise<void> {
    const image = decodePpm(bytes);
    // Retrying the same bytes cannot help: dead-letter at once, with the reason in the headers.
    if (!image) throw reject(`not a binary PPM image (${bytes.length} bytes, starting ${bytes.subarray(0, 8).toString('hex')})`);
    await this.events.ready({
      imageId: ctx.messageId,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
      width: image.width,
      height: image.height,
      averageColour: averageColour(image),
    });
  }
}
