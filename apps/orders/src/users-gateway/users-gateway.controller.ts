import {
  type AccountView,
  AuthenticateDto,
  RegisterAccountDto,
  type TokenResponse,
} from '@app/contracts';
import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RateLimitGuard } from '../http/rate-limit.guard.js';
import { UsersClient } from './users.client.js';

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
  register(@Body() dto: RegisterAccountDto): Promise<AccountView> {
    return this.users.post('/internal/register', dto);
  }

  /** `POST /auth/token` -> 200 `{accessToken, tokenType: "Bearer", expiresIn}`. */
  @Post('auth/token')
  @HttpCode(200)
  @ApiResponse({ status: 401, description: 'Wrong email or password' })
  token(@Body() dto: AuthenticateDto): Promise<TokenResponse> {
    return this.users.post('/internal/authenticate', dto);
  }
}
