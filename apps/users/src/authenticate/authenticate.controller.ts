import { InternalCallerGuard } from '@app/platform';
import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuthenticateDto, type TokenResponse } from '@app/contracts';
import { AuthenticateLimitGuard } from './authenticate-limit.guard.js';
import { AuthenticateService } from './authenticate.service.js';

/** Internal API called by the gateway only. */
@Controller('internal')
@UseGuards(InternalCallerGuard)
export class AuthenticateController {
  constructor(private readonly service: AuthenticateService) {}

  /** `POST /internal/authenticate` -> 200 `{accessToken, tokenType, expiresIn}` or 401. */
  @Post('authenticate')
  @HttpCode(200)
  @UseGuards(AuthenticateLimitGuard)
  authenticate(@Body() dto: AuthenticateDto): Promise<TokenResponse> {
    return this.service.authenticate(dto);
  }
}
