import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppException } from '../../common/problem/app-exception.js';
import { Public } from '../../access/auth.decorators.js';
import { PageAssets } from './page-assets.js';

/** The pages' CSS, scripts and images. A URL names the file's content, so browsers keep each for a year. */
@ApiExcludeController()
@Public()
@Controller('assets')
export class AssetsController {
  constructor(private readonly assets: PageAssets) {}

  @Get(':version/:name')
  serve(@Param('version') version: string, @Param('name') name: string, @Res() res: Response): void {
    const asset = this.assets.get(name);
    if (!asset) throw new AppException('not_found', 'No such file');
    res.setHeader('Content-Type', asset.type);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // An old version's URL (a page from before a deployment) gets today's file, but not for long.
    res.setHeader(
      'Cache-Control',
      version === asset.version ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
    );
    res.send(asset.body);
  }
}
