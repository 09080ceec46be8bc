import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsEmail, IsString, Length, MaxLength, MinLength } from 'class-validator';
import { RateLimitGuard } from '../http/rate-limit.guard.js';
import { UsersClient } from './users.client.js';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ minLength: 8, example: 'correct horse battery' })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxLength(256)
  password!: string;
}

export class TokenRequestDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery' })
  @IsString()
  @Length(1, 256)
  password!: string;
}

/** Registration and sign-in, forwarded to users over internal HTTP; rate limited per IP and per email. */
@ApiTags('accounts')
@Controller()
@UseGuards(RateLimitGuard)
export class UsersGatewayController {
  constructor(private readonly users: UsersClient) {}

  /** `POST /users` -> 201 `{id, email, name}`; 409 when the email is taken. */
  @Post('users')
  @HttpCode(201)
  @ApiResponse({ status: 409, description: 'Email already registered' })
  register(@Body() dto: RegisterDto): Promise<{ id: string; email: string; name: string }> {
    return this.users.post('/internal/register', dto);
  }

  /** `POST /auth/token` -> 200 `{accessToken, tokenType: "Bearer", expiresIn}`. */
  @Post('auth/token')
  @HttpCode(200)
  @ApiResponse({ status: 401, description: 'Wrong email or password' })
  token(
    @Body() dto: TokenRequestDto,
  ): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: number }> {
    return this.users.post('/internal/authenticate', dto);
  }
}
