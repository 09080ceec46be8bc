import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { AuthenticateDto, type TokenResponse } from '@app/contracts';
import { AuthenticateService } from './authenticate.service.js';

/** Internal API called by the gateway only. */
@Controller('internal')
export class AuthenticateController {
  constructor(private readonly service: AuthenticateService) {}

  /** `POST /internal/authenticate` -> 200 `{accessToken, tokenType, expiresIn}` or 401. */
  @Post('authenticate')
  @HttpCode(200)
  authenticate(@Body() dto: AuthenticateDto): Promise<TokenResponse> {
    return this.service.authenticate(dto);
  }
}
