/**
 * Binary PPM (P6) images: the simplest real image format — a text header, then one RGB byte triple
 * per pixel — so the example can make and read images without an image library.
 */

/** An image's size and pixels, RGB, row by row. */
export interface RgbImage {
  width: number;
  height: number;
  /** `width × height × 3` bytes. */
  pixels: Buffer;
}

/**
 * Encodes an image whose pixels `colour(x, y)` returns as `[r, g, b]`.
 *
 * @example
 * ```ts
 * const gradient = encodePpm(4, 2, (x) => [x * 60, 0, 0]);   // a 4 × 2 red gradient, 26 bytes
 * ```
 */
export function encodePpm(width: number, height: number, colour: (x: number, y: number) => readonly [number, number, number]): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) pixels.set(colour(x, y), (y * width + x) * 3);
  }
  return Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`, 'ascii'), pixels]);
}

const HEADER = /^P6\s+(\d+)\s+(\d+)\s+255\s/;

/** Reads a P6 image with 8-bit channels; undefined when the bytes are not one (or are cut short). */
export function decodePpm(bytes: Buffer): RgbImage | undefined {
  const header = HEADER.exec(bytes.subarray(0, 64).toString('latin1'));
  if (!header) return undefined;
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = bytes.subarray(header[0].length);
  return width > 0 && height > 0 && pixels.length === width * height * 3 ? { width, height, pixels } : undefined;
}

/** The mean of each channel, as `#rrggbb`: a one-pixel "thumbnail". */
export function averageColour(image: RgbImage): string {
  const sums = [0, 0, 0];
  for (let i = 0; i < image.pixels.length; i++) sums[i % 3]! += image.pixels[i]!;
  const count = image.width * image.height;
  return `#${sums.map((sum) => Math.round(sum / count).toString(16).padStart(2, '0')).join('')}`;
}
