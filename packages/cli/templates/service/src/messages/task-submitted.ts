import { IsInt, IsString, IsUUID, Length, Max, Min } from 'class-validator';

/**
 * Published on exchange `{{serviceName}}` with routing key `task.submitted`. The class is the contract:
 * Warren validates incoming messages against it before a handler runs, and outgoing ones before
 * they are sent.
 */
export class TaskSubmitted {
  @IsUUID() taskId!: string;
  @IsString() @Length(1, 200) title!: string;
  @IsInt() @Min(1) @Max(5) priority!: number;
}
