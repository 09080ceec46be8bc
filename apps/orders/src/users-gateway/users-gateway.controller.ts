import {
  type AccountView,
  AuthenticateDto,
  RegisterAccountDto,
  type TokenResponse,
} from '@app/contracts';
import { Body, Controller, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RateLimitGuard } from '../http/rate-limit.guard.js';
import { UsersClient } from './users.client.js';

/** Registration and sign-in, forwarded to users over internal HTTP; rate limited per client and per account and client. */
@ApiTags('accounts')
@Controller()
@UseGuards(RateLimitGuard)
export class UsersGatewayController {
  constructor(private readonly users: UsersClient) {}

  /** `POST /users` -> 201 `{id, email, name}`; 409 when the email is taken. */
  @Post('users')
  @HttpCode(201)
  @ApiResponse({ status: 409, description: 'Email already registered' })
  register(@Body() dto: RegisterAccountDto, @Ip() ip: string): Promise<AccountView> {
    return this.users.post('/internal/register', dto, ip);
  }

  /** `POST /auth/token` -> 200 `{accessToken, tokenType: "Bearer", expiresIn}`. */
  @Post('auth/token')
  @HttpCode(200)
  @ApiResponse({ status: 401, description: 'Wrong email or password' })
  token(@Body() dto: AuthenticateDto, @Ip() ip: string): Promise<TokenResponse> {
    return this.users.post('/internal/authenticate', dto, ip);
  }
}
