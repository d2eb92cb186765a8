import { IsString, Length } from 'class-validator';

/** The work message of the ledger fault test and the `done` event its service publishes. */
export class Work {
  @IsString() @Length(1, 80) id!: string;
}
