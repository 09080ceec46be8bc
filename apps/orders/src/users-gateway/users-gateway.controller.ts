import {
  type AccountView,
  AuthenticateDto,
  RegisterAccountDto,
  type TokenResponse,
} from '@app/contracts';
import { Body, Controller, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RateLimitGuard } from '../http/rate-limit.guard.js';
import { UsersClient } from './users.client.js';
import { AccountBody, ApiAnswer, ApiErrors, TokenBody } from '../http/openapi.js';

/** Registration and sign-in, forwarded to users over internal HTTP; rate limited per client and per account and client. */
@ApiTags('accounts')
@Controller()
@UseGuards(RateLimitGuard)
export class UsersGatewayController {
  constructor(private readonly users: UsersClient) {}

  /** `POST /users` -> 201 `{id, email, name}`; 409 when the email is taken. */
  @Post('users')
  @HttpCode(201)
  @ApiAnswer('Register an account', 201, 'The new account', AccountBody)
  @ApiErrors(400, [409, 'The email is already registered (case-insensitive)'], 413, 429, 503)
  register(@Body() dto: RegisterAccountDto, @Ip() ip: string): Promise<AccountView> {
    return this.users.post('/internal/register', dto, ip);
  }

  /** `POST /auth/token` -> 200 `{accessToken, tokenType: "Bearer", expiresIn}`. */
  @Post('auth/token')
  @HttpCode(200)
  @ApiAnswer(
    'Sign in: exchange email and password for an access token',
    200,
    'An access token',
    TokenBody,
  )
  @ApiErrors(400, [401, 'Wrong email or password'], 413, 429, 503)
  token(@Body() dto: AuthenticateDto, @Ip() ip: string): Promise<TokenResponse> {
    return this.users.post('/internal/authenticate', dto, ip);
  }
}
