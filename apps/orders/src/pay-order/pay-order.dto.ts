import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

/** The body of `POST /orders/:id/payments`. */
export class PayOrderDto {
  @ApiProperty({ description: 'Must equal the order total, in minor units', example: 18790 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  amountCents!: number;
}
