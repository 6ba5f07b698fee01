import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

export const MAX_AGENTS_PER_REQUEST = 100_000;

/** Either `count` anonymous agents or the named ones in `names`, not both. */
export class CreateAgentsDto {
  @ValidateIf((dto: CreateAgentsDto) => dto.names === undefined || dto.count !== undefined)
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AGENTS_PER_REQUEST)
  count?: number;

  @IsOptional()
  @ValidateIf((dto: CreateAgentsDto) => dto.count === undefined)
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  names?: string[];
}
