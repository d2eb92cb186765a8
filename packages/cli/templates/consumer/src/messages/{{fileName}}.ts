import { IsString, IsUUID, Length } from 'class-validator';

/** Sent on exchange `{{exchange}}` with routing key `{{routingKey}}`. Add the fields it carries. */
export class {{className}} {
  @IsUUID() id!: string;
  @IsString() @Length(1, 200) description!: string;
}
