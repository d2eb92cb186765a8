import 'reflect-metadata';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { TestApp } from '@warren/testing';
import { ImageUploads, Thumbnailer } from '../src/handlers';
import { decodePpm, encodePpm } from '../src/ppm';
import { afterEachCleanup } from './support/cleanup';

describe('image-pipeline: binary messages', () => {
  // A 4 × 2 image: left half pure red, right half pure blue → average #800080.
  const image = encodePpm(4, 2, (x) => (x < 2 ? [255, 0, 0] : [0, 0, 255]));
  let t: TestApp;

  beforeEach(async () => {
    t = await TestApp.create({ handlers: [Thumbnailer] });
  });
  afterEachCleanup('close the test app', () => t.close());

  it('sends image bytes unchanged, as application/octet-stream', async () => {
    await t.get(ImageUploads).uploaded(image);
    const [upload] = t.published({ exchange: 'images', routingKey: 'image.uploaded' });
    expect(upload?.message.properties.contentType).to.equal('application/octet-stream');
    expect(Buffer.compare(upload!.message.body, image)).to.equal(0);
  });

  it('publishes a JSON summary of each image to the thumbnails fanout exchange', async () => {
    await t.get(ImageUploads).uploaded(image);
    await t.idle();
    const [summary] = t.published({ exchange: 'thumbnails' });
    expect(summary?.message.properties.contentType).to.match(/^application\/json/);
    expect(summary?.payload).to.deep.include({
      sha256: createHash('sha256').update(image).digest('hex'),
      bytes: image.length,
      width: 4,
      height: 2,
      averageColour: '#800080',
    });
  });

  it('dead-letters bytes that are not an image at once, with the reason, and publishes nothing', async () => {
    const outcome = await t.publish('images', 'image.uploaded', Buffer.from('GIF89a, not a PPM'));
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('REJECTED');
    expect(outcome.retries).to.equal(0);
    const [dead] = await t.deadLetters('images.thumbnailer');
    expect(String(dead?.headers['x-warren-error-message'])).to.contain('not a binary PPM image');
    expect(t.published({ exchange: 'thumbnails' })).to.be.empty;
  });

  it('reads back the images it makes, and refuses truncated ones', () => {
    expect(decodePpm(image)).to.deep.include({ width: 4, height: 2 });
    expect(decodePpm(image.subarray(0, image.length - 1))).to.equal(undefined);
  });
});
