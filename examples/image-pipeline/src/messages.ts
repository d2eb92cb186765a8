import { IsHexColor, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';

/** Published as JSON on the fanout exchange `thumbnails` for each image the pipeline read. */
export class ImageSummary {
  /** The message id of the uploaded image, to match the summary with it. */
  @IsOptional() @IsString() imageId?: string;
  /** SHA-256 of the image bytes, hex. */
  @Matches(/^[0-9a-f]{64}$/) sha256!: string;
  @IsInt() @Min(1) bytes!: number;
  @IsInt() @Min(1) width!: number;
  @IsInt() @Min(1) height!: number;
  @IsHexColor() averageColour!: string;
}
